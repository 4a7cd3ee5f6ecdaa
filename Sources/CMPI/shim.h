#ifndef CMPI_SHIM_H
#define CMPI_SHIM_H
#include <mpi.h>
// OpenMPI's predefined handles are cast macros over incomplete structs
// (e.g. ((MPI_Comm)&ompi_mpi_comm_world)); Swift cannot import them, so they
// are exposed through static inline functions.
static inline MPI_Comm     cmpi_comm_world(void)    { return MPI_COMM_WORLD; }
static inline MPI_Comm     cmpi_comm_null(void)     { return MPI_COMM_NULL; }
static inline MPI_Datatype cmpi_float(void)         { return MPI_FLOAT; }
static inline MPI_Datatype cmpi_double(void)        { return MPI_DOUBLE; }
static inline MPI_Datatype cmpi_int32(void)         { return MPI_INT32_T; }
static inline MPI_Datatype cmpi_int64(void)         { return MPI_INT64_T; }
static inline MPI_Datatype cmpi_uint16(void)        { return MPI_UINT16_T; }
static inline MPI_Datatype cmpi_byte(void)          { return MPI_BYTE; }
static inline MPI_Op       cmpi_sum(void)           { return MPI_SUM; }
static inline MPI_Op       cmpi_max(void)           { return MPI_MAX; }
static inline MPI_Op       cmpi_min(void)           { return MPI_MIN; }
static inline MPI_Info     cmpi_info_null(void)     { return MPI_INFO_NULL; }
static inline MPI_Request  cmpi_request_null(void)  { return MPI_REQUEST_NULL; }
static inline MPI_Errhandler cmpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline void *       cmpi_in_place(void)      { return MPI_IN_PLACE; }
static inline MPI_Status * cmpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Status * cmpi_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }
#endif
