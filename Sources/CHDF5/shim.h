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
// --- Data (HDF5 datasets) helpers ---
#include <string.h>
static inline hid_t    chdf5_native_int8(void)    { return H5T_NATIVE_INT8; }
static inline hid_t    chdf5_native_uint32(void)  { return H5T_NATIVE_UINT32; }
static inline hid_t    chdf5_ieee_f32le(void)     { return H5T_IEEE_F32LE; }
static inline hid_t    chdf5_std_i32le(void)      { return H5T_STD_I32LE; }
static inline hid_t    chdf5_std_u8le(void)       { return H5T_STD_U8LE; }
static inline hid_t    chdf5_p_dataset_access(void) { return H5P_DATASET_ACCESS; }
static inline hsize_t  chdf5_s_unlimited(void)    { return H5S_UNLIMITED; }
static inline size_t   chdf5_t_variable(void)     { return H5T_VARIABLE; }
static inline hid_t    chdf5_e_default(void)      { return H5E_DEFAULT; }
/// Stops HDF5 from printing its error stack to stderr (errors are reported as Swift errors instead).
static inline void     chdf5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
/// IEEE half precision, little endian (HDF5 1.10 has no predefined float16 type); close with H5Tclose.
static inline hid_t    chdf5_make_float16_le(void) {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0) return t;
    if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_precision(t, 16) < 0 ||
        H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0) { H5Tclose(t); return -1; }
    return t;
}
static inline herr_t chdf5__collect_error(unsigned n, const H5E_error2_t *e, void *data) {
    char *buf = (char *)data;  /* [0,256): innermost message, [256,512): outermost message */
    if (e && e->desc) {
        if (n == 0) { strncpy(buf, e->desc, 255); buf[255] = 0; }
        strncpy(buf + 256, e->desc, 255); buf[511] = 0;
    }
    return 0;
}
/// Copies the innermost and outermost messages of the current error stack into buf[0..<256] and
/// buf[256..<512] (empty strings when the stack is empty), then clears the stack.
static inline void chdf5_take_error(char *buf) {
    buf[0] = 0; buf[256] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, chdf5__collect_error, buf);
    H5Eclear2(H5E_DEFAULT);
}
// --- Parallel (MPI-IO) access: libhdf5-openmpi is built with H5_HAVE_PARALLEL ---
#include <stdlib.h>
#ifdef H5_HAVE_PARALLEL
static inline int    chdf5_has_parallel(void) { return 1; }
/// The MPI-IO file driver over MPI_COMM_WORLD (H5Fopen with it is collective over all ranks).
static inline herr_t chdf5_set_fapl_mpio_world(hid_t fapl) { return H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL); }
/// Collective (1) or independent (0) MPI-IO transfers for H5Dread/H5Dwrite.
static inline herr_t chdf5_set_dxpl_mpio(hid_t dxpl, int collective) {
    return H5Pset_dxpl_mpio(dxpl, collective ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT);
}
#else
static inline int    chdf5_has_parallel(void) { return 0; }
static inline herr_t chdf5_set_fapl_mpio_world(hid_t fapl) { (void)fapl; return -1; }
static inline herr_t chdf5_set_dxpl_mpio(hid_t dxpl, int collective) { (void)dxpl; (void)collective; return -1; }
#endif
/// 1 when the user set HDF5_USE_FILE_LOCKING in the environment (HDF5 then follows it).
static inline int    chdf5_file_locking_env_set(void) { return getenv("HDF5_USE_FILE_LOCKING") != NULL; }
#endif
