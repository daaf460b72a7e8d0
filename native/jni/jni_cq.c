/*
 * jni_cq.c - natives of io.shardlink.rdma.CompletionQueue (sl_cq_*).
 *
 * Polling takes the address of a direct buffer of sl_completion slots (CompletionBatch) and
 * returns how many were written: no objects, no arrays, no allocation per completion.
 */
#include "jni_common.h"
#include "jni_errors.h"

static jlong native_create(JNIEnv *env, jclass cls, jlong dev, jint depth)
{
    (void)cls;
    sl_handle h = SL_NULL_HANDLE;
    if (sljni_check(env, sl_cq_create(sljni_handle(dev), (uint32_t)depth, &h), "sl_cq_create"))
        return 0;
    return sljni_jlong(h);
}

static void native_destroy(JNIEnv *env, jclass cls, jlong cq)
{
    (void)cls;
    sljni_check(env, sl_cq_destroy(sljni_handle(cq)), "sl_cq_destroy");
}

static jint native_fd(JNIEnv *env, jclass cls, jlong cq)
{
    (void)cls;
    int fd = -1;
    if (sljni_check(env, sl_cq_fd(sljni_handle(cq), &fd), "sl_cq_fd"))
        return -1;
    return fd;
}

static void native_arm(JNIEnv *env, jclass cls, jlong cq, jboolean solicited_only)
{
    (void)cls;
    sljni_check(env, sl_cq_arm(sljni_handle(cq), solicited_only ? 1 : 0), "sl_cq_arm");
}

static jint native_ack_events(JNIEnv *env, jclass cls, jlong cq)
{
    (void)cls;
    uint32_t events = 0;
    if (sljni_check(env, sl_cq_ack_events(sljni_handle(cq), &events), "sl_cq_ack_events"))
        return -1;
    return (jint)events;
}

static jint native_poll(JNIEnv *env, jclass cls, jlong cq, jlong address, jint max)
{
    (void)cls;
    uint32_t n = 0;
    int rc = sl_cq_poll(sljni_handle(cq), (sl_completion *)sljni_ptr(address), (uint32_t)max, &n);
    if (rc != SL_OK) {
        sljni_throw_status(env, rc, "sl_cq_poll");
        return -1;
    }
    return (jint)n;
}

/* Returns how many completions were written, or -2 (CompletionQueue.WOKEN) when sl_cq_wake ended it. */
static jint native_poll_adaptive(JNIEnv *env, jclass cls, jlong cq, jlong address, jint max, jint spin_us,
                                 jint timeout_ms)
{
    (void)cls;
    uint32_t n = 0;
    int woken = 0;
    int rc = sl_cq_poll_adaptive(sljni_handle(cq), (sl_completion *)sljni_ptr(address), (uint32_t)max, &n,
                                 (uint32_t)spin_us, (int)timeout_ms, &woken);
    if (rc != SL_OK) {
        sljni_throw_status(env, rc, "sl_cq_poll_adaptive");
        return -1;
    }
    return n == 0 && woken ? -2 : (jint)n;
}

static void native_wake(JNIEnv *env, jclass cls, jlong cq)
{
    (void)cls;
    sljni_check(env, sl_cq_wake(sljni_handle(cq)), "sl_cq_wake");
}

static const JNINativeMethod methods[] = {
    {"nativeCreate", "(JI)J", (void *)native_create},
    {"nativeDestroy", "(J)V", (void *)native_destroy},
    {"nativeFd", "(J)I", (void *)native_fd},
    {"nativeArm", "(JZ)V", (void *)native_arm},
    {"nativeAckEvents", "(J)I", (void *)native_ack_events},
    {"nativePoll", "(JJI)I", (void *)native_poll},
    {"nativePollAdaptive", "(JJIII)I", (void *)native_poll_adaptive},
    {"nativeWake", "(J)V", (void *)native_wake},
};

int sljni_register_cq(JNIEnv *env)
{
    return sljni_register(env, "CompletionQueue", methods, (int)SLJNI_NELEMS(methods));
}
