// TensorFlow DataType enum values -> TensorFlow's Python names ('float32', 'int64', 'resource', ...).
import type { DType } from '../../model/ir';

const NAMES: Readonly<Record<number, string>> = {
  0: 'invalid',
  1: 'float32',
  2: 'float64',
  3: 'int32',
  4: 'uint8',
  5: 'int16',
  6: 'int8',
  7: 'string',
  8: 'complex64',
  9: 'int64',
  10: 'bool',
  11: 'qint8',
  12: 'quint8',
  13: 'qint32',
  14: 'bfloat16',
  15: 'qint16',
  16: 'quint16',
  17: 'uint16',
  18: 'complex128',
  19: 'float16',
  20: 'resource',
  21: 'variant',
  22: 'uint32',
  23: 'uint64',
  24: 'float8_e5m2',
  25: 'float8_e4m3fn',
  26: 'float8_e4m3fnuz',
  27: 'float8_e4m3b11fnuz',
  28: 'float8_e5m2fnuz',
  29: 'int4',
  30: 'uint4',
  31: 'int2',
  32: 'uint2',
};

/** 'float32' for DT_FLOAT, 'float32_ref' for DT_FLOAT_REF, 'dtype_77' for values we do not know. */
export function dtypeName(value: number): DType {
  const base = NAMES[value];
  if (base !== undefined) return base;
  if (value > 100 && NAMES[value - 100] !== undefined) return `${NAMES[value - 100]}_ref`;
  return `dtype_${value}`;
}

/** The DataType enum value for a name produced by dtypeName (without '_ref'), or undefined. */
export function dtypeValue(name: DType): number | undefined {
  for (const [k, v] of Object.entries(NAMES)) if (v === name) return Number(k);
  return undefined;
}

/** Bytes per element of fixed-size dtypes, or null (string, resource, variant, sub-byte types). */
export function dtypeByteSize(name: DType): number | null {
  switch (name) {
    case 'float64': case 'int64': case 'uint64': case 'complex64':
      return 8;
    case 'float32': case 'int32': case 'uint32': case 'qint32':
      return 4;
    case 'float16': case 'bfloat16': case 'int16': case 'uint16': case 'qint16': case 'quint16':
      return 2;
    case 'int8': case 'uint8': case 'bool': case 'qint8': case 'quint8':
    case 'float8_e5m2': case 'float8_e4m3fn': case 'float8_e4m3fnuz': case 'float8_e4m3b11fnuz': case 'float8_e5m2fnuz':
      return 1;
    case 'complex128':
      return 16;
    default:
      return null;
  }
}
