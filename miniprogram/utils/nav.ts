/**
 * Moving between the two tabs. `wx.switchTab` carries no query, so a task to open on the index
 * tab (tapped in the history) is handed over here and taken by the index page when it shows.
 */

let taskToOpen: string | null = null;

/** Shows the index tab with this task open. */
export function openTask(taskId: string): void {
  taskToOpen = taskId;
  wx.switchTab({ url: '/pages/index/index' });
}

/** The task the index tab should open now, once. */
export function takeTaskToOpen(): string | null {
  const id = taskToOpen;
  taskToOpen = null;
  return id;
}

export function openForm(): void {
  wx.switchTab({ url: '/pages/index/index' });
}
