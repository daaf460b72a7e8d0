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
    {"nativeQuery", "(J[J)V", (void *)native_query},
    {"nativeDeregister", "(J)V", (void *)native_deregister},
};

int sljni_register_mr(JNIEnv *env)
{
    return sljni_register(env, "MemoryRegion", methods, (int)SLJNI_NELEMS(methods));
}
