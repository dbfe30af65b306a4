/**
 * The first history page, loaded once: the typical wait (`typicalWaitMs`) and the tasks still
 * running when the app opened. Whichever page loads that page first notes it, so the index page
 * needs no list call of its own once the history was open.
 */
import { LIST_DEFAULT_LIMIT, typicalWaitMs, type TaskSummary } from '../domain';
import { listTasks } from './index';

/** undefined = not loaded yet; null = too few finished tasks to say */
let typical: number | null | undefined;
let recent: readonly TaskSummary[] = [];
let loading: Promise<number | null> | null = null;

/** Notes the newest tasks (the first page of `list`). */
export function noteRecentTasks(tasks: readonly TaskSummary[]): void {
  typical = typicalWaitMs(tasks);
  recent = tasks;
}

export function knownTypicalWait(): number | null {
  return typical ?? null;
}

/** The newest tasks as last noted (empty before the first load). */
export function recentTasks(): readonly TaskSummary[] {
  return recent;
}

/** Loads the first history page once, if nothing noted it yet; never fails. */
export function loadTypicalWait(): Promise<number | null> {
  if (typical !== undefined) return Promise.resolve(typical);
  loading ??= listTasks(null, LIST_DEFAULT_LIMIT).then((out) => {
    loading = null;
    if (out.ok) noteRecentTasks(out.tasks);
    return knownTypicalWait();
  });
  return loading;
}
