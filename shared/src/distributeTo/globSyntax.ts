/**
 * Structural checks and splitting for distribute-to values. minimatch is lenient: it reads an
 * unbalanced `{` or `[` as a literal character, so `{qa,canary` would silently select nothing.
 * An operator means a glob there, so these are reported as errors instead.
 *
 * Both functions share one reading of the syntax: `\` escapes the next character; inside a
 * character class `[...]` nothing is special except its closing `]` (a `]` right after `[`, `[!`
 * or `[^` is a member, as in minimatch); outside, `{}` and `()` nest.
 */

/**
 * Splits a value at the commas that separate entries: those outside braces and character classes,
 * so `{qa,canary}/edge, prod` is two entries. An unclosed `{` or `[` swallows the rest of the
 * value into one entry, which then fails validation with the reason.
 */
export function splitEntries(value: string): string[] {
  const entries: string[] = [];
  let start = 0;
  let braces = 0;
  let classStart = -1;
  for (let i = 0; i < value.length; i += 1) {
    const c = value[i];
    if (c === '\\') {
      i += 1;
    } else if (classStart >= 0) {
      if (closesClass(value, classStart, i)) {
        classStart = -1;
      }
    } else if (c === '[') {
      classStart = i;
    } else if (c === '{') {
      braces += 1;
    } else if (c === '}' && braces > 0) {
      braces -= 1;
    } else if (c === ',' && braces === 0) {
      entries.push(value.slice(start, i));
      start = i + 1;
    }
  }
  entries.push(value.slice(start));
  return entries;
}

/** Why `pattern` is not a well-formed cluster glob, or undefined. `pattern` has no leading `!`. */
export function globProblem(pattern: string): string | undefined {
  if (pattern === '') {
    return 'is empty';
  }
  if (/\s/.test(pattern)) {
    return 'contains white space (a missing comma?)';
  }
  let braces = 0;
  let parens = 0;
  let classStart = -1;
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '\\') {
      if (i === pattern.length - 1) {
        return 'ends with the escape character "\\"';
      }
      i += 1;
    } else if (classStart >= 0) {
      if (closesClass(pattern, classStart, i)) {
        classStart = -1;
      }
    } else if (c === '[') {
      classStart = i;
    } else if (c === ']') {
      return 'has a "]" without a matching "["';
    } else if (c === '{') {
      braces += 1;
    } else if (c === '}') {
      if (braces === 0) {
        return 'has a "}" without a matching "{"';
      }
      braces -= 1;
    } else if (c === '(') {
      parens += 1;
    } else if (c === ')') {
      if (parens === 0) {
        return 'has a ")" without a matching "("';
      }
      parens -= 1;
    }
  }
  if (classStart >= 0) {
    return 'has a "[" without a matching "]"';
  }
  if (braces > 0) {
    return 'has a "{" without a matching "}"';
  }
  return parens > 0 ? 'has a "(" without a matching ")"' : undefined;
}

/** True when the `]` at `index` closes the class opened at `classStart`. */
function closesClass(text: string, classStart: number, index: number): boolean {
  if (text[index] !== ']') {
    return false;
  }
  const negated = text[classStart + 1] === '!' || text[classStart + 1] === '^';
  const firstMember = classStart + (negated ? 2 : 1);
  return index > firstMember;
}
