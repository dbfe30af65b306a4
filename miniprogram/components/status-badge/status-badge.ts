/** A small coloured status label (WeUI tones), shared by the task card and the history list. */
Component({
  options: { addGlobalClass: false },
  properties: {
    label: { type: String, value: '' },
    /** info | success | error | warn | muted */
    tone: { type: String, value: 'info' },
  },
});
