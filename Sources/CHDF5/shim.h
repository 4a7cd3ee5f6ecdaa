#ifndef CHDF5_SHIM_H
#define CHDF5_SHIM_H
#include <hdf5.h>
// H5T_NATIVE_*, H5P_* class ids and H5F_ACC_* are macros expanding to comma
// expressions that call H5open()/H5check(); Swift cannot import them.
static inline hid_t    chdf5_native_float(void)   { return H5T_NATIVE_FLOAT; }
static inline hid_t    chdf5_native_double(void)  { return H5T_NATIVE_DOUBLE; }
static inline hid_t    chdf5_native_int32(void)   { return H5T_NATIVE_INT32; }
static inline hid_t    chdf5_native_int64(void)   { return H5T_NATIVE_INT64; }
static inline hid_t    chdf5_native_uint8(void)   { return H5T_NATIVE_UINT8; }
static inline hid_t    chdf5_native_uint16(void)  { return H5T_NATIVE_UINT16; }
static inline hid_t    chdf5_c_s1(void)           { return H5T_C_S1; }
static inline hid_t    chdf5_p_file_access(void)  { return H5P_FILE_ACCESS; }
static inline hid_t    chdf5_p_file_create(void)  { return H5P_FILE_CREATE; }
static inline hid_t    chdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t    chdf5_p_dataset_xfer(void) { return H5P_DATASET_XFER; }
static inline unsigned chdf5_acc_trunc(void)      { return H5F_ACC_TRUNC; }
static inline unsigned chdf5_acc_excl(void)       { return H5F_ACC_EXCL; }
static inline unsigned chdf5_acc_rdonly(void)     { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_acc_rdwr(void)       { return H5F_ACC_RDWR; }
#endif
