/*
 * jni_pd.c - natives of io.shardlink.rdma.ProtectionDomain (sl_pd_create / sl_pd_destroy).
 */
#include "jni_common.h"
#include "jni_errors.h"

static jlong native_create(JNIEnv *env, jclass cls, jlong dev)
{
    (void)cls;
    sl_handle h = SL_NULL_HANDLE;
    if (sljni_check(env, sl_pd_create(sljni_handle(dev), &h), "sl_pd_create"))
        return 0;
    return sljni_jlong(h);
}

static void native_destroy(JNIEnv *env, jclass cls, jlong pd)
{
    (void)cls;
    sljni_check(env, sl_pd_destroy(sljni_handle(pd)), "sl_pd_destroy");
}

static const JNINativeMethod methods[] = {
    {"nativeCreate", "(J)J", (void *)native_create},
    {"nativeDestroy", "(J)V", (void *)native_destroy},
};

int sljni_register_pd(JNIEnv *env)
{
    return sljni_register(env, "ProtectionDomain", methods, (int)SLJNI_NELEMS(methods));
}
