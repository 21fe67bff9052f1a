/* Placeholder: minifloat conversions are written in the Cast work. */
#include "dtype_minifloat.h"

double minifloat_decode(DType t, uint8_t code) { (void)t; (void)code; return 0; }
uint8_t minifloat_encode(DType t, double v, bool saturate) { (void)t; (void)v; (void)saturate; return 0; }
