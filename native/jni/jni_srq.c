/*
 * jni_srq.c - natives of io.shardlink.rdma.SharedReceiveQueue (sl_srq_*).
 *
 * Posting takes the address of a direct buffer of sl_wr slots (WorkRequestBatch) and a count:
 * no objects, no arrays, no allocation per receive.
 */
#include "jni_common.h"
#include "jni_errors.h"

static jlong native_create(JNIEnv *env, jclass cls, jlong pd, jint depth, jint max_sge)
{
    (void)cls;
    sl_handle h = SL_NULL_HANDLE;
    if (sljni_check(env, sl_srq_create(sljni_handle(pd), (uint32_t)depth, (uint32_t)max_sge, &h),
                    "sl_srq_create"))
        return 0;
    return sljni_jlong(h);
}

static void native_destroy(JNIEnv *env, jclass cls, jlong srq)
{
    (void)cls;
    sljni_check(env, sl_srq_destroy(sljni_handle(srq)), "sl_srq_destroy");
}

static jint native_post_recv(JNIEnv *env, jclass cls, jlong srq, jlong address, jint count)
{
    (void)cls;
    uint32_t posted = 0;
    int rc = sl_srq_post_recv(sljni_handle(srq), (const sl_wr *)sljni_ptr(address), (uint32_t)count, &posted);
    if (rc != SL_OK) {
        sljni_throw_status(env, rc, "sl_srq_post_recv");
        return -1;
    }
    return (jint)posted;
}

static jint native_outstanding(JNIEnv *env, jclass cls, jlong srq)
{
    (void)cls;
    uint32_t n = 0;
    if (sljni_check(env, sl_srq_outstanding(sljni_handle(srq), &n), "sl_srq_outstanding"))
        return -1;
    return (jint)n;
}

static const JNINativeMethod methods[] = {
    {"nativeCreate", "(JII)J", (void *)native_create},
    {"nativeDestroy", "(J)V", (void *)native_destroy},
    {"nativePostRecv", "(JJI)I", (void *)native_post_recv},
    {"nativeOutstanding", "(J)I", (void *)native_outstanding},
};

int sljni_register_srq(JNIEnv *env)
{
    return sljni_register(env, "SharedReceiveQueue", methods, (int)SLJNI_NELEMS(methods));
}
