// Shapes of the descriptor table that scripts/gen-proto.mjs writes to gen/descriptors.ts. The text-format
// parser walks it to build the same objects the binary decoders build.

export type ScalarType =
  | 'double' | 'float' | 'int32' | 'int64' | 'uint32' | 'uint64' | 'sint32' | 'sint64'
  | 'fixed32' | 'fixed64' | 'sfixed32' | 'sfixed64' | 'bool' | 'string' | 'bytes';

export interface FieldDescriptor {
  /** Field number. */
  readonly no: number;
  /** Name as in the .proto file (and in text format). */
  readonly name: string;
  /** Property name in the generated TypeScript object (camelCase). */
  readonly key: string;
  readonly kind: 'scalar' | 'enum' | 'message' | 'map';
  /** Scalar type name, or the full name of the enum / message (for maps: the value type). */
  readonly type: string;
  /** Map fields: key scalar type and the value's kind. */
  readonly mapKey?: string;
  readonly mapValueKind?: 'scalar' | 'enum' | 'message';
  readonly repeated?: boolean;
  /** Stored as Lazy<T> (see wire.ts). */
  readonly lazy?: boolean;
  /** 64-bit integer decoded as bigint. */
  readonly bigint?: boolean;
  /** Oneof members: the `...Case` property naming the member that is set. */
  readonly oneofCase?: string;
}

export interface MessageDescriptor {
  readonly fullName: string;
  readonly create: () => object;
  readonly fields: readonly FieldDescriptor[];
}

export interface EnumDescriptor {
  readonly fullName: string;
  readonly values: Readonly<Record<string, number>>;
}
