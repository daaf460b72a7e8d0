/*
 * jni_device.c - natives of io.shardlink.rdma.RdmaDevice (sl_device_*, sl_port_query,
 * sl_gid_query, sl_device_limits_query, sl_memlock_limit).
 *
 * Setup-time calls: results are copied into Java arrays that the caller passes in, and the
 * Java side builds its records from them.
 */
#include <stdlib.h>
#include <string.h>

#include "jni_common.h"
#include "jni_errors.h"

/* Fills up to names.length entries; returns the total number of devices (may be larger). */
static jint native_list(JNIEnv *env, jclass cls, jobjectArray names, jlongArray guids,
                        jintArray num_ports, jintArray transports)
{
    (void)cls;
    jsize max = (*env)->GetArrayLength(env, names);
    if ((*env)->GetArrayLength(env, guids) < max || (*env)->GetArrayLength(env, num_ports) < max ||
        (*env)->GetArrayLength(env, transports) < max) {
        sljni_throw_java(env, "java/lang/IllegalArgumentException", "device list arrays differ in length");
        return -1;
    }
    sl_device_info *infos = NULL;
    if (max > 0) {
        infos = calloc((size_t)max, sizeof(*infos));
        if (infos == NULL) {
            sljni_throw_java(env, "java/lang/OutOfMemoryError", "sl_device_list buffer");
            return -1;
        }
    }
    uint32_t count = 0;
    int rc = sl_device_list(infos, (uint32_t)max, &count);
    if (rc != SL_OK) {
        free(infos);
        sljni_throw_status(env, rc, "sl_device_list");
        return -1;
    }
    jsize n = count < (uint32_t)max ? (jsize)count : max;
    for (jsize i = 0; i < n; i++) {
        infos[i].name[SL_NAME_MAX - 1] = '\0';
        jstring name = sljni_new_string(env, infos[i].name);
        if (name == NULL)
            goto out;
        (*env)->SetObjectArrayElement(env, names, i, name);
        (*env)->DeleteLocalRef(env, name);
        if ((*env)->ExceptionCheck(env))
            goto out;
        jlong guid = (jlong)infos[i].node_guid;
        jint ports = (jint)infos[i].num_ports;
        jint transport = (jint)infos[i].transport;
        (*env)->SetLongArrayRegion(env, guids, i, 1, &guid);
        (*env)->SetIntArrayRegion(env, num_ports, i, 1, &ports);
        (*env)->SetIntArrayRegion(env, transports, i, 1, &transport);
    }
out:
    free(infos);
    return (jint)count;
}

static jlong native_open(JNIEnv *env, jclass cls, jstring name, jint port)
{
    (void)cls;
    if (name == NULL) {
        sljni_throw_java(env, "java/lang/NullPointerException", "device name");
        return 0;
    }
    const char *cname = (*env)->GetStringUTFChars(env, name, NULL);
    if (cname == NULL)
        return 0;
    sl_handle h = SL_NULL_HANDLE;
    int rc = sl_device_open(cname, (uint8_t)port, &h);
    (*env)->ReleaseStringUTFChars(env, name, cname);
    if (sljni_check(env, rc, "sl_device_open"))
        return 0;
    return sljni_jlong(h);
}

static void native_close(JNIEnv *env, jclass cls, jlong dev)
{
    (void)cls;
    sljni_check(env, sl_device_close(sljni_handle(dev)), "sl_device_close");
}

static jstring native_name(JNIEnv *env, jclass cls, jlong dev)
{
    (void)cls;
    char buf[SL_NAME_MAX + 1];
    memset(buf, 0, sizeof(buf));
    if (sljni_check(env, sl_device_name(sljni_handle(dev), buf, sizeof(buf)), "sl_device_name"))
        return NULL;
    buf[SL_NAME_MAX] = '\0';
    return sljni_new_string(env, buf);
}

/* out: state, max_mtu, active_mtu, link_layer, gid_tbl_len, max_msg_sz, lid */
static void native_port_query(JNIEnv *env, jclass cls, jlong dev, jint port, jintArray out)
{
    (void)cls;
    sl_port_attr a;
    memset(&a, 0, sizeof(a));
    if (sljni_check(env, sl_port_query(sljni_handle(dev), (uint8_t)port, &a), "sl_port_query"))
        return;
    jint v[7] = {(jint)a.state,       (jint)a.max_mtu,    (jint)a.active_mtu, (jint)a.link_layer,
                 (jint)a.gid_tbl_len, (jint)a.max_msg_sz, (jint)a.lid};
    (*env)->SetIntArrayRegion(env, out, 0, (jsize)SLJNI_NELEMS(v), v);
}

static void native_gid(JNIEnv *env, jclass cls, jlong dev, jint port, jint index, jbyteArray out)
{
    (void)cls;
    uint8_t gid[16];
    if (index < 0) {
        sljni_throw_java(env, "java/lang/IllegalArgumentException", "negative GID index");
        return;
    }
    if (sljni_check(env, sl_gid_query(sljni_handle(dev), (uint8_t)port, (uint32_t)index, gid),
                    "sl_gid_query"))
        return;
    (*env)->SetByteArrayRegion(env, out, 0, 16, (const jbyte *)gid);
}

/* out: max_mr_size, max_qp, max_qp_wr, max_sge, max_cq, max_cqe, max_mr, max_pd,
 *      max_qp_rd_atom, max_qp_init_rd_atom, phys_port_cnt, max_srq, max_srq_wr, max_srq_sge
 *      (u32 values zero-extended) */
static void native_limits(JNIEnv *env, jclass cls, jlong dev, jlongArray out)
{
    (void)cls;
    sl_device_limits l;
    memset(&l, 0, sizeof(l));
    if (sljni_check(env, sl_device_limits_query(sljni_handle(dev), &l), "sl_device_limits_query"))
        return;
    jlong v[14] = {(jlong)l.max_mr_size,    (jlong)l.max_qp,  (jlong)l.max_qp_wr,
                   (jlong)l.max_sge,        (jlong)l.max_cq,  (jlong)l.max_cqe,
                   (jlong)l.max_mr,         (jlong)l.max_pd,  (jlong)l.max_qp_rd_atom,
                   (jlong)l.max_qp_init_rd_atom, (jlong)l.phys_port_cnt, (jlong)l.max_srq,
                   (jlong)l.max_srq_wr,     (jlong)l.max_srq_sge};
    if ((*env)->GetArrayLength(env, out) < (jsize)SLJNI_NELEMS(v)) {
        sljni_throw_java(env, "java/lang/IllegalArgumentException", "limits array too short");
        return;
    }
    (*env)->SetLongArrayRegion(env, out, 0, (jsize)SLJNI_NELEMS(v), v);
}

/* out: soft, hard (UINT64_MAX, i.e. -1 as a jlong, for unlimited) */
static void native_memlock(JNIEnv *env, jclass cls, jlongArray out)
{
    (void)cls;
    uint64_t soft = 0, hard = 0;
    if (sljni_check(env, sl_memlock_limit(&soft, &hard), "sl_memlock_limit"))
        return;
    jlong v[2] = {(jlong)soft, (jlong)hard};
    (*env)->SetLongArrayRegion(env, out, 0, 2, v);
}

static const JNINativeMethod methods[] = {
    {"nativeList", "([Ljava/lang/String;[J[I[I)I", (void *)native_list},
    {"nativeOpen", "(Ljava/lang/String;I)J", (void *)native_open},
    {"nativeClose", "(J)V", (void *)native_close},
    {"nativeName", "(J)Ljava/lang/String;", (void *)native_name},
    {"nativePortQuery", "(JI[I)V", (void *)native_port_query},
    {"nativeGid", "(JII[B)V", (void *)native_gid},
    {"nativeLimits", "(J[J)V", (void *)native_limits},
    {"nativeMemlock", "([J)V", (void *)native_memlock},
};

int sljni_register_device(JNIEnv *env)
{
    return sljni_register(env, "RdmaDevice", methods, (int)SLJNI_NELEMS(methods));
}
