/*
 * INCRBYFLOAT arithmetic in C `long double`, exactly as Redis 7.0 does it.
 *
 * Redis parses the stored value and the increment with `strtold` (its `string2ld`), adds
 * them in `long double` (80-bit extended precision on x86_64) and prints the sum with
 * "%.17Lf", trimming trailing zeros and the dot (`ld2string` in LD_STR_HUMAN mode). Rust has
 * no `long double`, and `f64` arithmetic prints different text (10.5 + 0.1 gives "10.6" in
 * Redis but 10.599999999999999645 in f64), so this one step lives here.
 *
 * Owns: parsing, adding and formatting. Must never: keep state, allocate, or read past the
 * lengths it is given (inputs are client bytes and are not NUL-terminated).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

/* Redis's MAX_LONG_DOUBLE_CHARS: longest accepted input, and size of the print buffer. */
#define TESSERA_MAX_LONG_DOUBLE_CHARS (5 * 1024)

#define TESSERA_LD_BAD_CURRENT (-1)
#define TESSERA_LD_BAD_INCREMENT (-2)
#define TESSERA_LD_NAN_OR_INF (-3)
#define TESSERA_LD_NO_ROOM (-4)

/* Redis's string2ld: the whole string must be consumed, no leading space, not NaN, and an
 * out-of-range value (overflow to infinity or underflow to zero) is rejected. */
static int tessera_string2ld(const char *s, size_t slen, long double *dp) {
    char buf[TESSERA_MAX_LONG_DOUBLE_CHARS];
    long double value;
    char *eptr;

    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';

    errno = 0;
    value = strtold(buf, &eptr);
    if (isspace((unsigned char)buf[0]) || eptr[0] != '\0' ||
        (size_t)(eptr - buf) != slen ||
        (errno == ERANGE &&
         (value == HUGE_VAL || value == -HUGE_VAL || fpclassify(value) == FP_ZERO)) ||
        errno == EINVAL ||
        isnan(value))
        return 0;

    *dp = value;
    return 1;
}

/*
 * Adds the decimal strings `cur` and `incr` in long double and writes the sum, formatted as
 * Redis's ld2string(LD_STR_HUMAN), into `out` (not NUL-terminated).
 * Returns the length written, or one of the negative TESSERA_LD_* codes.
 */
long tessera_incrbyfloat(const char *cur, size_t curlen, const char *incr, size_t incrlen,
                         char *out, size_t outcap) {
    long double value, by;
    char buf[TESSERA_MAX_LONG_DOUBLE_CHARS];
    int l;

    if (!tessera_string2ld(cur, curlen, &value)) return TESSERA_LD_BAD_CURRENT;
    if (!tessera_string2ld(incr, incrlen, &by)) return TESSERA_LD_BAD_INCREMENT;
    value += by;
    if (isnan(value) || isinf(value)) return TESSERA_LD_NAN_OR_INF;

    l = snprintf(buf, sizeof(buf), "%.17Lf", value);
    if (l < 0 || (size_t)l + 1 > sizeof(buf)) return TESSERA_LD_NO_ROOM;
    /* Remove trailing zeros after the '.', then the dot itself. */
    if (memchr(buf, '.', (size_t)l) != NULL) {
        while (l > 0 && buf[l - 1] == '0') l--;
        if (l > 0 && buf[l - 1] == '.') l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    if ((size_t)l > outcap) return TESSERA_LD_NO_ROOM;
    memcpy(out, buf, (size_t)l);
    return l;
}
