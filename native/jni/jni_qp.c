/*
 * jni_qp.c - natives of io.shardlink.rdma.QueuePair (sl_qp_*, sl_post_send / sl_post_recv).
 *
 * Posting takes the address of a direct buffer of sl_wr slots (WorkRequestBatch) and a count:
 * no objects, no arrays, no allocation per work request.
 */
#include <string.h>

#include "jni_common.h"
#include "jni_errors.h"

static jlong native_create(JNIEnv *env, jclass cls, jlong pd, jlong send_cq, jlong recv_cq, jlong srq,
                           jint sq_depth, jint rq_depth, jint max_sge, jint max_inline, jint port,
                           jint gid_index, jint signal_every, jlong tag)
{
    (void)cls;
    sl_qp_opts opts;
    sl_qp_opts_default(&opts);
    /* negative values keep the shim's default */
    if (sq_depth >= 0)
        opts.sq_depth = (uint32_t)sq_depth;
    if (rq_depth >= 0)
        opts.rq_depth = (uint32_t)rq_depth;
    if (max_sge >= 0)
        opts.max_sge = (uint32_t)max_sge;
    if (max_inline >= 0)
        opts.max_inline = (uint32_t)max_inline;
    if (port >= 0)
        opts.port = (uint8_t)port;
    if (gid_index >= 0)
        opts.gid_index = (uint8_t)gid_index;
    if (signal_every >= 0)
        opts.signal_every = (uint32_t)signal_every;
    opts.srq = sljni_handle(srq);
    opts.tag = (uint64_t)tag;
    sl_handle h = SL_NULL_HANDLE;
    if (sljni_check(env,
                    sl_qp_create(sljni_handle(pd), sljni_handle(send_cq), sljni_handle(recv_cq), &opts,
                                 &h),
                    "sl_qp_create"))
        return 0;
    return sljni_jlong(h);
}

/* out: sq_depth, rq_depth, max_sge, max_inline, signal_every */
static void native_caps(JNIEnv *env, jclass cls, jlong qp, jintArray out)
{
    (void)cls;
    sl_qp_caps c;
    if (sljni_check(env, sl_qp_caps_query(sljni_handle(qp), &c), "sl_qp_caps_query"))
        return;
    jint v[5] = {(jint)c.sq_depth, (jint)c.rq_depth, (jint)c.max_sge, (jint)c.max_inline, (jint)c.signal_every};
    if ((*env)->GetArrayLength(env, out) < (jsize)SLJNI_NELEMS(v)) {
        sljni_throw_java(env, "java/lang/IllegalArgumentException", "caps array too short");
        return;
    }
    (*env)->SetIntArrayRegion(env, out, 0, (jsize)SLJNI_NELEMS(v), v);
}

static void native_destroy(JNIEnv *env, jclass cls, jlong qp)
{
    (void)cls;
    sljni_check(env, sl_qp_destroy(sljni_handle(qp)), "sl_qp_destroy");
}

static jint native_state(JNIEnv *env, jclass cls, jlong qp)
{
    (void)cls;
    uint32_t state = 0;
    if (sljni_check(env, sl_qp_state(sljni_handle(qp), &state), "sl_qp_state"))
        return -1;
    return (jint)state;
}

static jint native_qp_num(JNIEnv *env, jclass cls, jlong qp)
{
    (void)cls;
    uint32_t qpn = 0;
    if (sljni_check(env, sl_qp_num(sljni_handle(qp), &qpn), "sl_qp_num"))
        return -1;
    return (jint)qpn;
}

static void native_set_error(JNIEnv *env, jclass cls, jlong qp)
{
    (void)cls;
    sljni_check(env, sl_qp_set_error(sljni_handle(qp)), "sl_qp_set_error");
}

static void native_endpoint(JNIEnv *env, jclass cls, jlong qp, jbyteArray out)
{
    (void)cls;
    uint8_t blob[SL_ENDPOINT_SIZE];
    if (sljni_check(env, sl_qp_endpoint(sljni_handle(qp), blob), "sl_qp_endpoint"))
        return;
    (*env)->SetByteArrayRegion(env, out, 0, SL_ENDPOINT_SIZE, (const jbyte *)blob);
}

static void native_connect(JNIEnv *env, jclass cls, jlong qp, jbyteArray peer, jint access,
                           jint mtu, jint timeout, jint retry_cnt, jint rnr_retry,
                           jint min_rnr_timer, jint max_rd_atomic)
{
    (void)cls;
    uint8_t blob[SL_ENDPOINT_SIZE];
    jsize len = (*env)->GetArrayLength(env, peer);
    if (len != SL_ENDPOINT_SIZE) {
        sljni_throw_java(env, "java/lang/IllegalArgumentException",
                         "peer endpoint must be SL_ENDPOINT_SIZE (40) bytes");
        return;
    }
    (*env)->GetByteArrayRegion(env, peer, 0, SL_ENDPOINT_SIZE, (jbyte *)blob);
    if ((*env)->ExceptionCheck(env))
        return;
    sl_connect_opts opts;
    sl_connect_opts_default(&opts);
    /* negative values keep the shim's default */
    if (access >= 0)
        opts.access = (uint32_t)access;
    if (mtu >= 0)
        opts.mtu = (uint32_t)mtu;
    if (timeout >= 0)
        opts.timeout = (uint8_t)timeout;
    if (retry_cnt >= 0)
        opts.retry_cnt = (uint8_t)retry_cnt;
    if (rnr_retry >= 0)
        opts.rnr_retry = (uint8_t)rnr_retry;
    if (min_rnr_timer >= 0)
        opts.min_rnr_timer = (uint8_t)min_rnr_timer;
    if (max_rd_atomic >= 0)
        opts.max_rd_atomic = (uint8_t)max_rd_atomic;
    sljni_check(env, sl_qp_connect(sljni_handle(qp), blob, sizeof(blob), &opts), "sl_qp_connect");
}

static jint native_post_send(JNIEnv *env, jclass cls, jlong qp, jlong address, jint count)
{
    (void)cls;
    uint32_t posted = 0;
    int rc = sl_post_send(sljni_handle(qp), (const sl_wr *)sljni_ptr(address), (uint32_t)count, &posted);
    if (rc != SL_OK) {
        sljni_throw_status(env, rc, "sl_post_send");
        return -1;
    }
    return (jint)posted;
}

static jint native_post_recv(JNIEnv *env, jclass cls, jlong qp, jlong address, jint count)
{
    (void)cls;
    uint32_t posted = 0;
    int rc = sl_post_recv(sljni_handle(qp), (const sl_wr *)sljni_ptr(address), (uint32_t)count, &posted);
    if (rc != SL_OK) {
        sljni_throw_status(env, rc, "sl_post_recv");
        return -1;
    }
    return (jint)posted;
}

/* (send << 32) | recv */
static jlong native_outstanding(JNIEnv *env, jclass cls, jlong qp)
{
    (void)cls;
    uint32_t send = 0, recv = 0;
    if (sljni_check(env, sl_qp_outstanding(sljni_handle(qp), &send, &recv), "sl_qp_outstanding"))
        return -1;
    return (jlong)(((uint64_t)send << 32) | recv);
}

static const JNINativeMethod methods[] = {
    {"nativeCreate", "(JJJJIIIIIIIJ)J", (void *)native_create},
    {"nativeCaps", "(J[I)V", (void *)native_caps},
    {"nativeDestroy", "(J)V", (void *)native_destroy},
    {"nativeState", "(J)I", (void *)native_state},
    {"nativeQpNum", "(J)I", (void *)native_qp_num},
    {"nativeSetError", "(J)V", (void *)native_set_error},
    {"nativeEndpoint", "(J[B)V", (void *)native_endpoint},
    {"nativeConnect", "(J[BIIIIIII)V", (void *)native_connect},
    {"nativePostSend", "(JJI)I", (void *)native_post_send},
    {"nativePostRecv", "(JJI)I", (void *)native_post_recv},
    {"nativeOutstanding", "(J)J", (void *)native_outstanding},
};

int sljni_register_qp(JNIEnv *env)
{
    return sljni_register(env, "QueuePair", methods, (int)SLJNI_NELEMS(methods));
}
