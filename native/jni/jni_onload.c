/*
 * jni_onload.c - JNI_OnLoad / JNI_OnUnload of libshardlink_jni.
 *
 * Caches what the bridge needs (RdmaException's class and constructor, as global references)
 * and registers every class's natives from its method table (Netty's native-transport style:
 * no exported Java_* symbols, so a missing or renamed method fails loudly at load time, in one
 * place, instead of at the first call).
 */
#include "jni_common.h"
#include "jni_errors.h"

int sljni_register(JNIEnv *env, const char *simple_name, const JNINativeMethod *methods, int count)
{
    char name[128] = SLJNI_PACKAGE;
    size_t prefix = sizeof(SLJNI_PACKAGE) - 1;
    size_t i = 0;
    for (; simple_name[i] != '\0' && prefix + i < sizeof(name) - 1; i++)
        name[prefix + i] = simple_name[i];
    name[prefix + i] = '\0';

    jclass cls = (*env)->FindClass(env, name);
    if (cls == NULL)
        return -1;
    jint rc = (*env)->RegisterNatives(env, cls, methods, count);
    (*env)->DeleteLocalRef(env, cls);
    return rc == JNI_OK ? 0 : -1;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved)
{
    (void)reserved;
    JNIEnv *env = NULL;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK)
        return JNI_ERR;
    if (sljni_errors_init(env) != 0)
        return JNI_ERR;
    if (sljni_register_library(env) != 0 || sljni_register_buffer(env) != 0 ||
        sljni_register_device(env) != 0 || sljni_register_pd(env) != 0 ||
        sljni_register_cq(env) != 0 || sljni_register_qp(env) != 0 ||
        sljni_register_mr(env) != 0 || sljni_register_srq(env) != 0 ||
        sljni_register_mw(env) != 0) {
        sljni_errors_fini(env);
        return JNI_ERR;
    }
    return JNI_VERSION_1_8;
}

JNIEXPORT void JNICALL JNI_OnUnload(JavaVM *vm, void *reserved)
{
    (void)reserved;
    JNIEnv *env = NULL;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK)
        return;
    sljni_errors_fini(env);
}
