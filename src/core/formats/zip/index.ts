// Public surface of the zip reader (for `.keras` archives).
export { MemoryFileSource, ZipArchive, ZIP_LOCAL_SIGNATURE, type ZipEntry, type ZipOpenOptions } from './zip';
export { crc32 } from './crc32';
