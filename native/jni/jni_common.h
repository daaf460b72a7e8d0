/*
 * jni_common.h - declarations shared by the JNI bridge's C files (libshardlink_jni).
 *
 * The bridge is thin: each file converts arguments for one Java class and calls the shim
 * (include/shardlink.h). Natives are registered in JNI_OnLoad (jni_onload.c) from one method
 * table per class; there are no Java_io_shardlink_... exported symbols.
 *
 * Handles cross the boundary as jlong (the shim's 64-bit sl_handle, bit for bit).
 * Hot paths (post, poll) take raw addresses of direct buffers obtained once at setup, never
 * ByteBuffer objects, and allocate nothing.
 */
#ifndef SLJNI_COMMON_H
#define SLJNI_COMMON_H

#include <jni.h>
#include <stdint.h>

#include "shardlink.h"

#define SLJNI_HIDDEN __attribute__((visibility("hidden")))
#define SLJNI_PACKAGE "io/shardlink/rdma/"

#define SLJNI_NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static inline sl_handle sljni_handle(jlong h) { return (sl_handle)(uint64_t)h; }
static inline jlong sljni_jlong(sl_handle h) { return (jlong)(uint64_t)h; }
static inline void *sljni_ptr(jlong address) { return (void *)(uintptr_t)(uint64_t)address; }

/*
 * Registers the natives of one Java class (SLJNI_PACKAGE + simple_name).
 * Returns 0, or -1 with a pending Java exception.
 */
SLJNI_HIDDEN int sljni_register(JNIEnv *env, const char *simple_name, const JNINativeMethod *methods,
                                int count);

/* One registration function per Java class, each in the C file of that class. */
SLJNI_HIDDEN int sljni_register_library(JNIEnv *env);  /* jni_library.c: NativeLibrary */
SLJNI_HIDDEN int sljni_register_buffer(JNIEnv *env);   /* jni_buffer.c:  DirectBuffers */
SLJNI_HIDDEN int sljni_register_device(JNIEnv *env);   /* jni_device.c:  RdmaDevice */
SLJNI_HIDDEN int sljni_register_pd(JNIEnv *env);       /* jni_pd.c:      ProtectionDomain */
SLJNI_HIDDEN int sljni_register_cq(JNIEnv *env);       /* jni_cq.c:      CompletionQueue */
SLJNI_HIDDEN int sljni_register_qp(JNIEnv *env);       /* jni_qp.c:      QueuePair */
SLJNI_HIDDEN int sljni_register_mr(JNIEnv *env);       /* jni_mr.c:      MemoryRegion */
SLJNI_HIDDEN int sljni_register_srq(JNIEnv *env);      /* jni_srq.c:     SharedReceiveQueue */
SLJNI_HIDDEN int sljni_register_mw(JNIEnv *env);       /* jni_mw.c:      MemoryWindow */

/*
 * NewStringUTF for text that came from C (device names, strerror texts): bytes outside
 * 7-bit ASCII become '?', so that the JVM never sees invalid modified UTF-8.
 * Returns NULL with a pending OutOfMemoryError on failure.
 */
SLJNI_HIDDEN jstring sljni_new_string(JNIEnv *env, const char *text);

#endif /* SLJNI_COMMON_H */
