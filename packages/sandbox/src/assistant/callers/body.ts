/** A skill's answer body: parsed JSON, the text itself when it is not JSON, null when empty. */
export function readAnswerBody(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON: the card shows the text as it came.
    return text;
  }
}
