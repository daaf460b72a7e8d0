/*
 * jni_mr.c - natives of io.shardlink.rdma.MemoryRegion (sl_mr_register / query / deregister).
 *
 * Java passes the address of a direct ByteBuffer (DirectBuffers.address, plus its position)
 * and keeps the buffer strongly reachable for as long as the region is registered.
 */
#include <string.h>

#include "jni_common.h"
#include "jni_errors.h"

static jlong native_register(JNIEnv *env, jclass cls, jlong pd, jlong address, jlong length,
                             jint access)
{
    (void)cls;
    sl_handle h = SL_NULL_HANDLE;
    if (sljni_check(env,
                    sl_mr_register(sljni_handle(pd), sljni_ptr(address), (uint64_t)length,
                                   (uint32_t)access, &h),
                    "sl_mr_register"))
        return 0;
    return sljni_jlong(h);
}

/* a read-only private mapping of the file's bytes, owned by the region (sl_mr_register_file) */
static jlong native_register_file(JNIEnv *env, jclass cls, jlong pd, jstring path, jlong offset, jlong length,
                                  jint access)
{
    (void)cls;
    sl_handle h = SL_NULL_HANDLE;
    const char *p;
    int rc;

    if (!path || offset < 0 || length <= 0) {
        sljni_check(env, sl_mr_register_file(sljni_handle(pd), NULL, 0, 0, (uint32_t)access, &h),
                    "sl_mr_register_file");
        return 0;
    }
    p = (*env)->GetStringUTFChars(env, path, NULL);
    if (!p)
        return 0; /* OutOfMemoryError pending */
    rc = sl_mr_register_file(sljni_handle(pd), p, (uint64_t)offset, (uint64_t)length, (uint32_t)access, &h);
    (*env)->ReleaseStringUTFChars(env, path, p);
    if (sljni_check(env, rc, "sl_mr_register_file"))
        return 0;
    return sljni_jlong(h);
}

/* a direct ByteBuffer over a file region's mapping (Java makes it read-only) */
static jobject native_view(JNIEnv *env, jclass cls, jlong address, jlong length)
{
    (void)cls;
    return (*env)->NewDirectByteBuffer(env, sljni_ptr(address), length);
}

/* out: addr, length, lkey, rkey, access (u32 values zero-extended) */
static void native_query(JNIEnv *env, jclass cls, jlong mr, jlongArray out)
{
    (void)cls;
    sl_mr_info info;
    memset(&info, 0, sizeof(info));
    if (sljni_check(env, sl_mr_query(sljni_handle(mr), &info), "sl_mr_query"))
        return;
    jlong v[5] = {(jlong)info.addr, (jlong)info.length, (jlong)info.lkey, (jlong)info.rkey,
                  (jlong)info.access};
    (*env)->SetLongArrayRegion(env, out, 0, 5, v);
}

static void native_deregister(JNIEnv *env, jclass cls, jlong mr)
{
    (void)cls;
    sljni_check(env, sl_mr_deregister(sljni_handle(mr)), "sl_mr_deregister");
}

static const JNINativeMethod methods[] = {
    {"nativeRegister", "(JJJI)J", (void *)native_register},
    {"nativeRegisterFile", "(JLjava/lang/String;JJI)J", (void *)native_register_file},
    {"nativeView", "(JJ)Ljava/nio/ByteBuffer;", (void *)native_view},
    {"nativeQuery", "(J[J)V", (void *)native_query},
    {"nativeDeregister", "(J)V", (void *)native_deregister},
};

int sljni_register_mr(JNIEnv *env)
{
    return sljni_register(env, "MemoryRegion", methods, (int)SLJNI_NELEMS(methods));
}
