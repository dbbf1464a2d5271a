// Class keys: 1-9 and 0 select classes 1-10; Shift+1..9 and Shift+0 select classes 11-20.
// Keys are matched by their position (KeyboardEvent.code "Digit1"...), so Shift+1 works on
// every keyboard layout, whatever character Shift+1 types there.

export const MAX_KEYED_CLASSES = 20;

/** Class index (0-based) selected by a key event, or -1 when it is no class key. */
export function classFromKey(event) {
  let digit = /^(?:Digit|Numpad)([0-9])$/.exec(event.code || "");
  if (!digit && !event.shiftKey) digit = /^([0-9])$/.exec(event.key || "");
  if (!digit) return -1;
  const position = digit[1] === "0" ? 9 : Number(digit[1]) - 1; // 1..9, 0 -> 0..9
  return position + (event.shiftKey ? 10 : 0);
}

/** The key shown next to class index i in the class list ("" past class 20). */
export function classKeyLabel(i) {
  if (i >= MAX_KEYED_CLASSES) return "";
  const digit = String((i % 10) + 1).slice(-1); // 10 -> "0"
  return i >= 10 ? `\u21E7${digit}` : digit;
}
