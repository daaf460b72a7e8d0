/*
 * jni_errors.h - turning shim failures into Java exceptions.
 *
 * Every shim call returns SL_OK or a negative sl_status and leaves a thread-local error text and
 * errno (sl_last_error / sl_last_errno). sljni_throw_status() turns that into
 * io.shardlink.rdma.RdmaException(int status, String statusName, int errno, String message).
 * The class and its constructor are cached as global references in JNI_OnLoad.
 */
#ifndef SLJNI_ERRORS_H
#define SLJNI_ERRORS_H

#include <jni.h>

#include "jni_common.h"

/* Caches RdmaException's class and constructor. Returns 0, or -1 with a pending exception. */
SLJNI_HIDDEN int sljni_errors_init(JNIEnv *env);
SLJNI_HIDDEN void sljni_errors_fini(JNIEnv *env);

/*
 * Throws RdmaException for `status` (a negative sl_status) with this thread's sl_last_error()
 * and sl_last_errno(). `what` names the call and is used only when the shim left no text.
 */
SLJNI_HIDDEN void sljni_throw_status(JNIEnv *env, int status, const char *what);

/* Throws a java.lang exception of the given class (e.g. "java/lang/IllegalArgumentException"). */
SLJNI_HIDDEN void sljni_throw_java(JNIEnv *env, const char *class_name, const char *message);

/* Shorthand: if status != SL_OK, throw and return 1; else return 0. */
static inline int sljni_check(JNIEnv *env, int status, const char *what)
{
    if (status == SL_OK)
        return 0;
    sljni_throw_status(env, status, what);
    return 1;
}

#endif /* SLJNI_ERRORS_H */
