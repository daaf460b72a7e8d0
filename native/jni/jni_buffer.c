/*
 * jni_buffer.c - natives of io.shardlink.rdma.DirectBuffers: the address of a direct ByteBuffer.
 *
 * Called once per buffer at setup (WorkRequestBatch, CompletionBatch, MemoryRegion); the hot
 * paths then pass that address as a jlong. 0 means "not a direct buffer" (Java rejects it).
 * sl_buf_alloc is deliberately not exposed: a ByteBuffer over shim-owned memory would outlive
 * its free() and crash the JVM on use; Java's own direct buffers (ByteBuffer.alignedSlice for
 * page alignment) are registered instead.
 */
#include "jni_common.h"

static jlong native_address(JNIEnv *env, jclass cls, jobject buffer)
{
    (void)cls;
    if (buffer == NULL)
        return 0;
    void *p = (*env)->GetDirectBufferAddress(env, buffer);
    return (jlong)(uintptr_t)p;
}

static const JNINativeMethod methods[] = {
    {"nativeAddress", "(Ljava/nio/ByteBuffer;)J", (void *)native_address},
};

int sljni_register_buffer(JNIEnv *env)
{
    return sljni_register(env, "DirectBuffers", methods, (int)SLJNI_NELEMS(methods));
}
