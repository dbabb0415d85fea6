// Protobuf text format (what `saved_model.pbtxt` holds), parsed with the generated descriptor table into the
// same objects the binary decoders build. Fields our .proto subset does not declare are skipped, as are
// `[type.googleapis.com/...]` Any expansions and extensions (only the Any's type_url is kept).
// Throws only ModelReadError, with line:column.
import { LIMITS, ModelReadError } from '../../io/errors';
import type { FieldDescriptor, MessageDescriptor } from './descriptor';
import { enumDescriptors, messageDescriptors } from './gen/descriptors';
import { lazyValue } from './wire';

type Obj = Record<string, unknown>;

const enum Tok {
  End,
  Ident,
  Number,
  String,
  Symbol,
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

/**
 * Parses `input` as a text-format message of type `typeName` (full name, e.g. 'tensorflow.SavedModel').
 * `file` names the file in error messages.
 */
export function parseTextFormat<T>(input: string | Uint8Array, typeName: string, file: string): T {
  const desc = messageDescriptors[typeName];
  if (!desc) throw new ModelReadError(file, 'internal', `no descriptor for message type ${typeName}`);
  const text = typeof input === 'string' ? input : utf8Decoder.decode(input);
  const p = new TextParser(text, file);
  const obj = desc.create() as Obj;
  p.parseFields(desc, obj, '', 0);
  return obj as T;
}

class TextParser {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  // current token
  private kind: Tok = Tok.End;
  private value = '';
  private tokLine = 1;
  private tokCol = 1;
  /** For Tok.String: the decoded bytes. */
  private bytes: Uint8Array | null = null;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {
    this.advance();
  }

  private fail(detail: string, line = this.tokLine, col = this.tokCol): never {
    throw new ModelReadError(this.file, 'text-format', `line ${line}:${col}: ${detail}`);
  }

  private describeToken(): string {
    switch (this.kind) {
      case Tok.End:
        return 'end of file';
      case Tok.String:
        return 'a string';
      default:
        return `'${this.value.length > 40 ? this.value.slice(0, 40) + '…' : this.value}'`;
    }
  }

  // ---- tokenizer ---------------------------------------------------------------------------------

  private skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 10) {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
      } else if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) this.pos++;
      else if (c === 35 /* # */) {
        while (this.pos < t.length && t.charCodeAt(this.pos) !== 10) this.pos++;
      } else break;
    }
  }

  private advance(): void {
    this.skipSpace();
    const t = this.text;
    this.tokLine = this.line;
    this.tokCol = this.pos - this.lineStart + 1;
    this.bytes = null;
    if (this.pos >= t.length) {
      this.kind = Tok.End;
      this.value = '';
      return;
    }
    const start = this.pos;
    const c = t.charCodeAt(start);
    if (isIdentStart(c)) {
      let e = start + 1;
      while (e < t.length && isIdentPart(t.charCodeAt(e))) e++;
      this.kind = Tok.Ident;
      this.value = t.slice(start, e);
      this.pos = e;
    } else if (isDigit(c) || (c === 46 /* . */ && isDigit(t.charCodeAt(start + 1)))) {
      let e = start + 1;
      while (e < t.length) {
        const d = t.charCodeAt(e);
        if (isIdentPart(d) || d === 46) e++;
        else if ((d === 43 || d === 45) && (t.charCodeAt(e - 1) | 0x20) === 101 /* e */ && !/^0[xX]/.test(t.slice(start, e))) e++;
        else break;
      }
      this.kind = Tok.Number;
      this.value = t.slice(start, e);
      this.pos = e;
    } else if (c === 34 || c === 39) {
      this.readString(c);
    } else {
      this.kind = Tok.Symbol;
      this.value = t[start];
      this.pos = start + 1;
    }
  }

  private readString(quote: number): void {
    const t = this.text;
    const out: number[] = [];
    let i = this.pos + 1;
    while (true) {
      if (i >= t.length) this.fail('unterminated string');
      const c = t.charCodeAt(i);
      if (c === quote) {
        i++;
        break;
      }
      if (c === 10) this.fail('newline inside a string');
      if (c !== 92 /* \ */) {
        if (c < 0x80) out.push(c);
        else {
          // a raw non-ASCII character: its UTF-8 bytes (surrogate pairs kept together)
          const cp = t.codePointAt(i) ?? c;
          const s = String.fromCodePoint(cp);
          for (const b of utf8Encoder.encode(s)) out.push(b);
          i += s.length;
          continue;
        }
        i++;
        continue;
      }
      const escCol = i - this.lineStart + 1;
      i++;
      if (i >= t.length) this.fail('unterminated string');
      const e = t[i];
      switch (e) {
        case 'n': out.push(10); i++; break;
        case 't': out.push(9); i++; break;
        case 'r': out.push(13); i++; break;
        case 'a': out.push(7); i++; break;
        case 'b': out.push(8); i++; break;
        case 'f': out.push(12); i++; break;
        case 'v': out.push(11); i++; break;
        case '\\': out.push(92); i++; break;
        case "'": out.push(39); i++; break;
        case '"': out.push(34); i++; break;
        case '?': out.push(63); i++; break;
        case 'x':
        case 'X': {
          let j = i + 1;
          while (j < t.length && j < i + 3 && isHex(t.charCodeAt(j))) j++;
          if (j === i + 1) this.fail('\\x escape without hex digits', this.line, escCol);
          out.push(parseInt(t.slice(i + 1, j), 16));
          i = j;
          break;
        }
        case 'u':
        case 'U': {
          const n = e === 'u' ? 4 : 8;
          const hex = t.slice(i + 1, i + 1 + n);
          if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) this.fail(`\\${e} escape needs ${n} hex digits`, this.line, escCol);
          const cp = parseInt(hex, 16);
          if (cp > 0x10ffff) this.fail(`\\${e}${hex} is not a Unicode code point`, this.line, escCol);
          for (const b of utf8Encoder.encode(String.fromCodePoint(cp))) out.push(b);
          i += 1 + n;
          break;
        }
        default: {
          if (e >= '0' && e <= '7') {
            let j = i;
            while (j < t.length && j < i + 3 && t[j] >= '0' && t[j] <= '7') j++;
            out.push(parseInt(t.slice(i, j), 8) & 0xff);
            i = j;
            break;
          }
          this.fail(`unknown escape \\${e}`, this.line, escCol);
        }
      }
    }
    this.kind = Tok.String;
    this.value = '';
    this.bytes = Uint8Array.from(out);
    this.pos = i;
  }

  private isSymbol(s: string): boolean {
    return this.kind === Tok.Symbol && this.value === s;
  }

  private accept(s: string): boolean {
    if (this.isSymbol(s)) {
      this.advance();
      return true;
    }
    return false;
  }

  private expect(s: string): void {
    if (!this.accept(s)) this.fail(`expected '${s}' but found ${this.describeToken()}`);
  }

  // ---- grammar -----------------------------------------------------------------------------------

  /** Parses fields until `close` ('}' / '>'), or end of input when close is ''. */
  parseFields(desc: MessageDescriptor, obj: Obj, close: string, depth: number): void {
    if (depth > LIMITS.maxDepth) this.fail(`messages nested more than ${LIMITS.maxDepth} levels deep`);
    while (true) {
      if (close === '' ? this.kind === Tok.End : this.isSymbol(close)) {
        if (close !== '') this.advance();
        return;
      }
      if (this.kind === Tok.End) this.fail(`expected '${close}' before end of file`);
      if (this.isSymbol('[')) {
        this.skipExtension(desc, obj, depth);
      } else {
        if (this.kind !== Tok.Ident) this.fail(`expected a field name but found ${this.describeToken()}`);
        const name = this.value;
        const field = fieldByName(desc, name);
        this.advance();
        if (field) this.parseField(field, obj, depth);
        else this.skipValue(depth);
      }
      if (!this.accept(';')) this.accept(',');
    }
  }

  /** `[type.googleapis.com/pkg.Msg] { ... }` (Any expansion) or `[pkg.ext]: value` (extension): skipped. */
  private skipExtension(desc: MessageDescriptor, obj: Obj, depth: number): void {
    const t = this.text;
    const close = t.indexOf(']', this.pos);
    if (close < 0) this.fail("unterminated '['");
    const name = t.slice(this.pos, close).replace(/\s+/g, '');
    this.pos = close + 1;
    this.advance();
    if (desc.fullName === 'google.protobuf.Any' && name.includes('/')) obj['typeUrl'] = name;
    this.skipValue(depth);
  }

  private parseField(field: FieldDescriptor, obj: Obj, depth: number): void {
    const isMessage = field.kind === 'message' || field.kind === 'map';
    if (isMessage) this.accept(':');
    else this.expect(':');
    if (this.isSymbol('[')) {
      // list syntax: name: [a, b] / name [{...}, {...}]
      if (!field.repeated && field.kind !== 'map') this.fail(`field '${field.name}' is not repeated but has a list value`);
      this.advance();
      if (this.accept(']')) return;
      while (true) {
        this.parseOne(field, obj, depth);
        if (this.accept(']')) return;
        this.expect(',');
      }
    }
    this.parseOne(field, obj, depth);
  }

  private parseOne(field: FieldDescriptor, obj: Obj, depth: number): void {
    if (field.kind === 'map') {
      const map = obj[field.key] as Map<unknown, unknown>;
      const [k, v] = this.parseMapEntry(field, depth);
      map.set(k, v);
      return;
    }
    let value: unknown;
    if (field.kind === 'message') {
      const sub = messageDescriptors[field.type];
      const close = this.openBlock();
      const existing = !field.repeated && !field.lazy ? (obj[field.key] as Obj | undefined) : undefined;
      const m = existing ?? (sub.create() as Obj);
      this.parseFields(sub, m, close, depth + 1);
      value = m;
    } else {
      value = this.scalar(field.kind === 'enum' ? 'enum' : field.type, field.type, !!field.bigint, field.name);
    }
    if (field.lazy) value = lazyValue(value);
    if (field.repeated) (obj[field.key] as unknown[]).push(value);
    else {
      obj[field.key] = value;
      if (field.oneofCase) this.setOneof(field, obj);
    }
  }

  private setOneof(field: FieldDescriptor, obj: Obj): void {
    const prev = obj[field.oneofCase as string];
    if (typeof prev === 'string' && prev !== field.key) obj[prev] = undefined;
    obj[field.oneofCase as string] = field.key;
  }

  private openBlock(): string {
    if (this.accept('{')) return '}';
    if (this.accept('<')) return '>';
    return this.fail(`expected '{' but found ${this.describeToken()}`);
  }

  private parseMapEntry(field: FieldDescriptor, depth: number): [unknown, unknown] {
    const close = this.openBlock();
    const keyType = field.mapKey ?? 'string';
    let key: unknown = keyType === 'string' ? '' : keyType === 'bool' ? false : 0;
    let value: unknown;
    while (!this.accept(close)) {
      if (this.kind !== Tok.Ident) this.fail(`expected 'key' or 'value' but found ${this.describeToken()}`);
      const name = this.value;
      this.advance();
      if (name === 'key') {
        this.expect(':');
        key = this.scalar(keyType, keyType, false, 'key');
      } else if (name === 'value') {
        if (field.mapValueKind === 'message') {
          this.accept(':');
          const sub = messageDescriptors[field.type];
          const blockClose = this.openBlock();
          const m = (value as Obj | undefined) ?? (sub.create() as Obj);
          this.parseFields(sub, m, blockClose, depth + 2);
          value = m;
        } else {
          this.expect(':');
          value = this.scalar(field.mapValueKind === 'enum' ? 'enum' : field.type, field.type, false, 'value');
        }
      } else this.skipValue(depth + 1);
      if (!this.accept(';')) this.accept(',');
    }
    if (value === undefined) {
      if (field.mapValueKind === 'message') value = messageDescriptors[field.type].create();
      else if (field.mapValueKind === 'enum') value = 0;
      else value = field.type === 'string' ? '' : field.type === 'bytes' ? new Uint8Array(0) : field.type === 'bool' ? false : 0;
    }
    return [key, value];
  }

  /** One scalar value of the given proto scalar type ('enum' with the enum's full name in `typeName`). */
  private scalar(type: string, typeName: string, bigint: boolean, fieldName: string): unknown {
    const line = this.tokLine;
    const col = this.tokCol;
    switch (type) {
      case 'string':
      case 'bytes': {
        if (this.kind !== Tok.String) this.fail(`field '${fieldName}' expects a string but found ${this.describeToken()}`);
        let bytes = this.bytes as Uint8Array;
        this.advance();
        while (this.kind === Tok.String) {
          // adjacent literals concatenate
          const more = this.bytes as Uint8Array;
          const joined = new Uint8Array(bytes.length + more.length);
          joined.set(bytes);
          joined.set(more, bytes.length);
          bytes = joined;
          this.advance();
        }
        return type === 'string' ? utf8Decoder.decode(bytes) : bytes;
      }
      case 'bool': {
        const v = this.value;
        if ((this.kind === Tok.Ident || this.kind === Tok.Number) && BOOLS.has(v)) {
          this.advance();
          return BOOLS.get(v);
        }
        return this.fail(`field '${fieldName}' expects true or false but found ${this.describeToken()}`);
      }
      case 'enum': {
        if (this.kind === Tok.Ident) {
          const values = enumDescriptors[typeName]?.values ?? {};
          const v = Object.prototype.hasOwnProperty.call(values, this.value) ? values[this.value] : undefined;
          if (v === undefined) this.fail(`unknown ${typeName} value '${this.value}' for field '${fieldName}'`);
          this.advance();
          return v;
        }
        return Number(this.integer(fieldName, false, line, col));
      }
      case 'float':
      case 'double':
        return this.floating(fieldName);
      default: {
        const unsigned = type.startsWith('u') || type === 'fixed32' || type === 'fixed64';
        const n = this.integer(fieldName, unsigned, line, col);
        const is64 = type.endsWith('64');
        const lo = is64 ? (unsigned ? 0n : -(1n << 63n)) : unsigned ? 0n : -(1n << 31n);
        const hi = is64 ? (unsigned ? (1n << 64n) - 1n : (1n << 63n) - 1n) : unsigned ? (1n << 32n) - 1n : (1n << 31n) - 1n;
        if (n < lo || n > hi) this.fail(`value ${n} out of range for ${type} field '${fieldName}'`, line, col);
        return bigint ? n : Number(n);
      }
    }
  }

  private integer(fieldName: string, unsigned: boolean, line: number, col: number): bigint {
    let neg = false;
    if (this.accept('-')) neg = true;
    if (this.kind !== Tok.Number) this.fail(`field '${fieldName}' expects an integer but found ${this.describeToken()}`);
    const s = this.value;
    let n: bigint;
    if (/^0[xX][0-9a-fA-F]+$/.test(s) || /^(0|[1-9][0-9]*)$/.test(s)) n = BigInt(s);
    else if (/^0[0-7]+$/.test(s)) n = BigInt('0o' + s.slice(1));
    else return this.fail(`field '${fieldName}' expects an integer but found '${s}'`);
    if (neg && unsigned) this.fail(`field '${fieldName}' is unsigned but found '-${s}'`, line, col);
    this.advance();
    return neg ? -n : n;
  }

  private floating(fieldName: string): number {
    let neg = false;
    if (this.accept('-')) neg = true;
    let v: number;
    if (this.kind === Tok.Ident) {
      const s = this.value.toLowerCase();
      if (s === 'inf' || s === 'infinity') v = Infinity;
      else if (s === 'nan') v = NaN;
      else return this.fail(`field '${fieldName}' expects a number but found ${this.describeToken()}`);
    } else if (this.kind === Tok.Number) {
      const s = this.value.replace(/[fF]$/, '');
      if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = Number(BigInt(s));
      else if (/^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(s)) v = Number(s);
      else return this.fail(`field '${fieldName}' expects a number but found '${this.value}'`);
    } else return this.fail(`field '${fieldName}' expects a number but found ${this.describeToken()}`);
    this.advance();
    return neg ? -v : v;
  }

  /** Skips the value of a field we do not declare: `: scalar`, `: [list]`, `{ ... }`, `: { ... }`. */
  private skipValue(depth: number): void {
    if (depth > LIMITS.maxDepth) this.fail(`messages nested more than ${LIMITS.maxDepth} levels deep`);
    const colon = this.accept(':');
    if (this.isSymbol('{') || this.isSymbol('<')) {
      const close = this.openBlock();
      this.skipBlock(close, depth + 1);
      return;
    }
    if (!colon) this.fail(`expected ':' or '{' but found ${this.describeToken()}`);
    if (this.accept('[')) {
      if (this.accept(']')) return;
      while (true) {
        if (this.isSymbol('{') || this.isSymbol('<')) this.skipBlock(this.openBlock(), depth + 1);
        else this.skipScalar();
        if (this.accept(']')) return;
        this.expect(',');
      }
    }
    this.skipScalar();
  }

  private skipScalar(): void {
    this.accept('-');
    if (this.kind === Tok.String) {
      while (this.kind === Tok.String) this.advance();
      return;
    }
    if (this.kind === Tok.Ident || this.kind === Tok.Number) {
      this.advance();
      return;
    }
    this.fail(`expected a value but found ${this.describeToken()}`);
  }

  private skipBlock(close: string, depth: number): void {
    if (depth > LIMITS.maxDepth) this.fail(`messages nested more than ${LIMITS.maxDepth} levels deep`);
    while (!this.accept(close)) {
      if (this.kind === Tok.End) this.fail(`expected '${close}' before end of file`);
      if (this.isSymbol('[')) {
        const t = this.text;
        const end = t.indexOf(']', this.pos);
        if (end < 0) this.fail("unterminated '['");
        this.pos = end + 1;
        this.advance();
      } else if (this.kind === Tok.Ident) this.advance();
      else this.fail(`expected a field name but found ${this.describeToken()}`);
      this.skipValue(depth);
      if (!this.accept(';')) this.accept(',');
    }
  }
}

const BOOLS = new Map<string, boolean>([
  ['true', true], ['True', true], ['t', true], ['1', true],
  ['false', false], ['False', false], ['f', false], ['0', false],
]);

const fieldIndex = new WeakMap<MessageDescriptor, Map<string, FieldDescriptor>>();
function fieldByName(desc: MessageDescriptor, name: string): FieldDescriptor | undefined {
  let idx = fieldIndex.get(desc);
  if (!idx) {
    idx = new Map(desc.fields.map((f) => [f.name, f]));
    fieldIndex.set(desc, idx);
  }
  return idx.get(name);
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
