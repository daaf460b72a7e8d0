package io.shardlink.cli;

import java.lang.reflect.Proxy;

/**
 * SIGINT/SIGTERM handling through {@code sun.misc.Signal} (module jdk.unsupported), reached reflectively so
 * the build has no proprietary-API warning. With a handler installed the JVM does not exit on the signal:
 * the command shuts down cleanly and exits 0.
 */
final class Signals {
    private Signals() {}

    /** Runs {@code action} (on a JVM signal thread) on each named signal it can handle; false if it could handle none. */
    static boolean on(Runnable action, String... names) {
        try {
            Class<?> sig = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Object handler = Proxy.newProxyInstance(handlerType.getClassLoader(), new Class<?>[] {handlerType},
                    (proxy, m, args) -> switch (m.getName()) {
                        case "handle" -> {
                            action.run();
                            yield null;
                        }
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        default -> "shardlink-signal-handler";
                    });
            boolean any = false;
            for (String n : names) {
                try {
                    Object s = sig.getConstructor(String.class).newInstance(n);
                    sig.getMethod("handle", sig, handlerType).invoke(null, s, handler);
                    any = true;
                } catch (ReflectiveOperationException | RuntimeException e) {
                    // e.g. SIGINT inherited as ignored (a background job): the JVM refuses a handler; keep the others
                }
            }
            return any;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return false;
        }
    }
}
