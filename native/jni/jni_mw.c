/*
 * jni_mw.c - natives of io.shardlink.rdma.MemoryWindow (sl_mw_alloc / rkey / bind / dealloc).
 */
#include "jni_common.h"
#include "jni_errors.h"

static jlong native_alloc(JNIEnv *env, jclass cls, jlong pd)
{
    (void)cls;
    sl_handle h = SL_NULL_HANDLE;
    if (sljni_check(env, sl_mw_alloc(sljni_handle(pd), &h), "sl_mw_alloc"))
        return 0;
    return sljni_jlong(h);
}

static jint native_rkey(JNIEnv *env, jclass cls, jlong mw)
{
    (void)cls;
    uint32_t rkey = 0;
    if (sljni_check(env, sl_mw_rkey(sljni_handle(mw), &rkey), "sl_mw_rkey"))
        return 0;
    return (jint)rkey;
}

static void native_bind(JNIEnv *env, jclass cls, jlong qp, jlong mw, jlong mr, jlong offset, jlong length,
                        jint access, jlong wr_id)
{
    (void)cls;
    if (offset < 0 || length < 0) {
        /* let the shim word the error: a negative length is out of every range */
        sljni_check(env, sl_mw_bind(sljni_handle(qp), sljni_handle(mw), sljni_handle(mr), UINT64_MAX, 0,
                                    (uint32_t)access, (uint64_t)wr_id), "sl_mw_bind");
        return;
    }
    sljni_check(env, sl_mw_bind(sljni_handle(qp), sljni_handle(mw), sljni_handle(mr), (uint64_t)offset,
                                (uint64_t)length, (uint32_t)access, (uint64_t)wr_id), "sl_mw_bind");
}

static void native_dealloc(JNIEnv *env, jclass cls, jlong mw)
{
    (void)cls;
    sljni_check(env, sl_mw_dealloc(sljni_handle(mw)), "sl_mw_dealloc");
}

static const JNINativeMethod methods[] = {
    {"nativeAlloc", "(J)J", (void *)native_alloc},
    {"nativeRkey", "(J)I", (void *)native_rkey},
    {"nativeBind", "(JJJJJIJ)V", (void *)native_bind},
    {"nativeDealloc", "(J)V", (void *)native_dealloc},
};

int sljni_register_mw(JNIEnv *env)
{
    return sljni_register(env, "MemoryWindow", methods, (int)SLJNI_NELEMS(methods));
}
