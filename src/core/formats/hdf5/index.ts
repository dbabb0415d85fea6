// Public surface of the read-only HDF5 reader.
export { Dataset, Group, Hdf5File, HDF5_SIGNATURE, hasHdf5Signature, type Hdf5OpenOptions } from './file';
export type { Datatype, Hdf5Limits, Hdf5Value } from './file';
