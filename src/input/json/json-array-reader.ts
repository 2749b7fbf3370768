import { shown } from '../shown.js';
import { BackfillError } from '../../errors.js';
import { RecordBuffer, type OnJsonText, type OnTooLarge } from './ndjson-reader.js';

enum S {
  /** before the opening [ */
  Start,
  /** after [ or a comma: an element or (after [ only) ] */
  Element,
  /** inside an element */
  Value,
  /** after an element: , or ] */
  After,
  /** after the closing ] */
  Done,
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

/**
 * Splits a JSON array (`[ {...}, {...} ]`) into the source text of its elements without holding
 * more than one element, push-based: write() chunks, then end(). It follows only the structure
 * (brackets, braces, strings and their escapes); each element's text is then read by the same
 * parser as an NDJSON line, so a broken element is one bad record, not the end of the run. An
 * element larger than maxBytes is skipped structurally and reported with its head. A document
 * that is not an array, or ends inside one, stops the run (its line is named).
 */
export class JsonArraySplitter {
  private state = S.Start;
  private depth = 0;
  private inString = false;
  private escape = false;
  /** the element being read */
  private readonly element: RecordBuffer;
  private line = 1;
  private startLine = 1;
  private first = true;
  /** elements handed over */
  elements = 0;

  constructor(
    private readonly onElement: OnJsonText,
    private readonly onTooLarge: OnTooLarge,
    maxBytes: number,
    private readonly name: string,
  ) {
    this.element = new RecordBuffer(maxBytes);
  }

  private fail(what: string): never {
    throw new BackfillError(
      'INPUT_MALFORMED',
      `"${shown(this.name)}" is not a JSON array of objects: ${what} on line ${this.line}`,
      'Check that the export finished writing (a JSON array must end with ]). JSON with one object per line (NDJSON) is read as such when its first character is {.',
    );
  }

  write(chunk: Buffer): void {
    let i = 0;
    if (this.first && chunk.length > 0) {
      this.first = false;
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
    }
    let valueFrom = this.state === S.Value ? i : -1;
    const n = chunk.length;
    while (i < n) {
      const c = chunk[i]!;
      if (this.state === S.Value) {
        if (this.inString) {
          if (this.escape) this.escape = false;
          else if (c === 92) this.escape = true;
          else if (c === 34) this.inString = false;
          else if (c === 10) this.line++;
          i++;
          continue;
        }
        if (c === 34) this.inString = true;
        else if (c === 123 || c === 91) this.depth++;
        else if (c === 125 || c === 93) {
          if (this.depth === 0) {
            // ] right after a scalar element: the element ends here
            this.take(chunk, valueFrom, i);
            this.finishElement();
            valueFrom = -1;
            this.state = S.Done;
            i++;
            continue;
          }
          this.depth--;
          if (this.depth === 0) {
            this.take(chunk, valueFrom, i + 1);
            this.finishElement();
            valueFrom = -1;
            this.state = S.After;
          }
        } else if (c === 44 && this.depth === 0) {
          this.take(chunk, valueFrom, i);
          this.finishElement();
          valueFrom = -1;
          this.state = S.Element;
        } else if (c === 10) this.line++;
        i++;
        continue;
      }
      if (c === 10) this.line++;
      if (isSpace(c)) {
        i++;
        continue;
      }
      switch (this.state) {
        case S.Start:
          if (c !== 91) this.fail(`expected [ , found ${JSON.stringify(String.fromCharCode(c))}`);
          this.state = S.Element;
          this.afterOpen = true;
          break;
        case S.Element:
          if (c === 93 && this.afterOpen) {
            this.state = S.Done;
            break;
          }
          if (c === 93 || c === 44) this.fail(`expected an element, found ${String.fromCharCode(c)}`);
          this.afterOpen = false;
          this.state = S.Value;
          this.startLine = this.line;
          valueFrom = i;
          continue; // the value's first character is read in the Value state
        case S.After:
          if (c === 44) this.state = S.Element;
          else if (c === 93) this.state = S.Done;
          else this.fail(`expected , or ] after an element, found ${JSON.stringify(String.fromCharCode(c))}`);
          break;
        case S.Done:
          this.fail(`unexpected ${JSON.stringify(String.fromCharCode(c))} after the closing ]`);
      }
      i++;
    }
    if (this.state === S.Value && valueFrom >= 0) this.take(chunk, valueFrom, n);
  }

  private afterOpen = false;

  end(): void {
    if (this.state === S.Start) return; // empty input: no records
    if (this.state !== S.Done) this.fail('the input ends inside the array');
  }

  private take(chunk: Buffer, from: number, to: number): void {
    if (from < 0 || to <= from) return;
    this.element.add(chunk, from, to);
  }

  private finishElement(): void {
    this.elements++;
    const got = this.element.take();
    if ('bytes' in got) this.onElement(got.bytes.toString('utf8').trimEnd(), this.startLine);
    else this.onTooLarge(got.head, got.size, this.startLine);
  }
}
