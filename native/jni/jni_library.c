/*
 * jni_library.c - natives of io.shardlink.rdma.NativeLibrary: version, layout self-check, texts.
 *
 * nativeLayout() reports sizeof/offsetof of the structs that Java fills and reads in direct
 * buffers (sl_wr, sl_sge, sl_completion) and the constants Java mirrors. NativeLibrary compares
 * it with its own table when the library loads (a mismatch makes RDMA unavailable instead of
 * corrupting memory), and a host test compares it too. The order here is the order of
 * NativeLibrary.LAYOUT_NAMES: change both together.
 */
#include <stddef.h>

#include "jni_common.h"
#include "jni_errors.h"

static const jint layout[] = {
    /* sl_wr */
    (jint)sizeof(sl_wr),
    (jint)offsetof(sl_wr, wr_id),
    (jint)offsetof(sl_wr, opcode),
    (jint)offsetof(sl_wr, flags),
    (jint)offsetof(sl_wr, imm),
    (jint)offsetof(sl_wr, num_sge),
    (jint)offsetof(sl_wr, remote_addr),
    (jint)offsetof(sl_wr, rkey),
    (jint)offsetof(sl_wr, reserved),
    (jint)offsetof(sl_wr, sge),
    SL_WR_MAX_SGE,
    /* sl_sge */
    (jint)sizeof(sl_sge),
    (jint)offsetof(sl_sge, mr),
    (jint)offsetof(sl_sge, offset),
    (jint)offsetof(sl_sge, length),
    (jint)offsetof(sl_sge, reserved),
    /* sl_completion */
    (jint)sizeof(sl_completion),
    (jint)offsetof(sl_completion, wr_id),
    (jint)offsetof(sl_completion, status),
    (jint)offsetof(sl_completion, opcode),
    (jint)offsetof(sl_completion, byte_len),
    (jint)offsetof(sl_completion, imm),
    (jint)offsetof(sl_completion, qp_num),
    (jint)offsetof(sl_completion, flags),
    (jint)offsetof(sl_completion, vendor_err),
    (jint)offsetof(sl_completion, src_qp),
    (jint)offsetof(sl_completion, qp_tag),
    /* constants */
    SL_ENDPOINT_SIZE,
    SL_OP_SEND,
    SL_OP_SEND_IMM,
    SL_OP_WRITE,
    SL_OP_WRITE_IMM,
    SL_OP_READ,
    SL_OP_RECV,
    SL_OP_RECV_IMM,
    SL_WC_WITH_IMM,
    SL_WR_FENCE,
    SL_WR_SOLICITED,
    SL_WR_INLINE,
    SL_ACCESS_LOCAL_WRITE,
    SL_ACCESS_REMOTE_WRITE,
    SL_ACCESS_REMOTE_READ,
    SL_QP_RESET,
    SL_QP_INIT,
    SL_QP_RTR,
    SL_QP_RTS,
    SL_QP_SQD,
    SL_QP_SQE,
    SL_QP_ERR,
    SL_PORT_DOWN,
    SL_PORT_ACTIVE,
    SL_NAME_MAX,
    SL_WR_UNSIGNALED,
    SL_WC_SRQ,
    SL_WC_DEPARTED,
    SL_OP_BIND_MW,
    SL_ACCESS_MW_BIND,
};

static jintArray native_layout(JNIEnv *env, jclass cls)
{
    (void)cls;
    jsize n = (jsize)SLJNI_NELEMS(layout);
    jintArray out = (*env)->NewIntArray(env, n);
    if (out != NULL)
        (*env)->SetIntArrayRegion(env, out, 0, n, layout);
    return out;
}

static jint native_version(JNIEnv *env, jclass cls)
{
    (void)env;
    (void)cls;
    return (SL_VERSION_MAJOR << 16) | SL_VERSION_MINOR;
}

static jstring native_status_name(JNIEnv *env, jclass cls, jint status)
{
    (void)cls;
    return sljni_new_string(env, sl_status_name(status));
}

static jstring native_wc_status_text(JNIEnv *env, jclass cls, jint status)
{
    (void)cls;
    return sljni_new_string(env, sl_wc_status_str((uint32_t)status));
}

static const JNINativeMethod methods[] = {
    {"nativeLayout", "()[I", (void *)native_layout},
    {"nativeVersion", "()I", (void *)native_version},
    {"nativeStatusName", "(I)Ljava/lang/String;", (void *)native_status_name},
    {"nativeWcStatusText", "(I)Ljava/lang/String;", (void *)native_wc_status_text},
};

int sljni_register_library(JNIEnv *env)
{
    return sljni_register(env, "NativeLibrary", methods, (int)SLJNI_NELEMS(methods));
}
