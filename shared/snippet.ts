/** The opening of a transcript that the history list shows instead of the whole text. */

/** Code points a snippet keeps: about two lines of a phone's list row. */
export const SNIPPET_LENGTH = 80;

/** The transcript's first SNIPPET_LENGTH code points, whitespace folded; null when it is empty. */
export function snippetOf(content: string): string | null {
  const folded = content.replace(/\s+/g, ' ').trim();
  if (folded === '') return null;
  const points = Array.from(folded);
  return points.length > SNIPPET_LENGTH ? `${points.slice(0, SNIPPET_LENGTH).join('')}…` : folded;
}
