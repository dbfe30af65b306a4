/**
 * The tasks in flight (or ended and not yet seen), listed under the form and under a task card:
 * the video's words, where it is (or how it ended) and a thin progress bar. A tap fires `open`
 * with the task's id.
 */
import { datasetOf } from '../../utils/page';

Component({
  options: { addGlobalClass: false },
  properties: {
    title: { type: String, value: '' },
    /** TaskRow[] (pages/index/index.ts) */
    rows: { type: Array, value: [] },
    runningCount: { type: Number, value: 0 },
  },
  methods: {
    onTap(e: { currentTarget?: { dataset?: Record<string, unknown> } }) {
      const id = datasetOf(e).id;
      if (typeof id === 'string') this.triggerEvent('open', { id });
    },
  },
});
