/*
 * jni_errors.c - shim status + thread-local error text -> io.shardlink.rdma.RdmaException.
 */
#include <stdio.h>
#include <string.h>

#include "jni_errors.h"

static jclass rdma_exception_class;   /* global ref */
static jmethodID rdma_exception_ctor; /* (ILjava/lang/String;ILjava/lang/String;)V */

int sljni_errors_init(JNIEnv *env)
{
    jclass local = (*env)->FindClass(env, SLJNI_PACKAGE "RdmaException");
    if (local == NULL)
        return -1;
    rdma_exception_ctor =
        (*env)->GetMethodID(env, local, "<init>", "(ILjava/lang/String;ILjava/lang/String;)V");
    if (rdma_exception_ctor == NULL) {
        (*env)->DeleteLocalRef(env, local);
        return -1;
    }
    rdma_exception_class = (*env)->NewGlobalRef(env, local);
    (*env)->DeleteLocalRef(env, local);
    return rdma_exception_class == NULL ? -1 : 0;
}

void sljni_errors_fini(JNIEnv *env)
{
    if (rdma_exception_class != NULL) {
        (*env)->DeleteGlobalRef(env, rdma_exception_class);
        rdma_exception_class = NULL;
    }
    rdma_exception_ctor = NULL;
}

jstring sljni_new_string(JNIEnv *env, const char *text)
{
    char buf[1024];
    size_t n = 0;
    if (text == NULL)
        text = "";
    for (; text[n] != '\0' && n < sizeof(buf) - 1; n++) {
        unsigned char c = (unsigned char)text[n];
        buf[n] = (c >= 0x80) ? '?' : (char)c;
    }
    buf[n] = '\0';
    return (*env)->NewStringUTF(env, buf);
}

void sljni_throw_java(JNIEnv *env, const char *class_name, const char *message)
{
    jclass cls = (*env)->FindClass(env, class_name);
    if (cls == NULL)
        return; /* NoClassDefFoundError is pending */
    (*env)->ThrowNew(env, cls, message);
    (*env)->DeleteLocalRef(env, cls);
}

void sljni_throw_status(JNIEnv *env, int status, const char *what)
{
    /* Read the thread-local error first: JNI calls below do not touch the shim. */
    const char *text = sl_last_error();
    int err = sl_last_errno();
    char fallback[256];
    if (text == NULL || text[0] == '\0') {
        snprintf(fallback, sizeof(fallback), "%s failed: %s", what ? what : "shardlink call",
                 sl_status_name(status));
        text = fallback;
    }
    if ((*env)->ExceptionCheck(env))
        return; /* keep the first exception */
    if (rdma_exception_class == NULL) {
        sljni_throw_java(env, "java/lang/IllegalStateException", text);
        return;
    }
    jstring name = sljni_new_string(env, sl_status_name(status));
    if (name == NULL)
        return;
    jstring message = sljni_new_string(env, text);
    if (message == NULL)
        return;
    jobject ex = (*env)->NewObject(env, rdma_exception_class, rdma_exception_ctor, (jint)status, name,
                                   (jint)err, message);
    if (ex != NULL) {
        (*env)->Throw(env, (jthrowable)ex);
        (*env)->DeleteLocalRef(env, ex);
    }
    (*env)->DeleteLocalRef(env, name);
    (*env)->DeleteLocalRef(env, message);
}
