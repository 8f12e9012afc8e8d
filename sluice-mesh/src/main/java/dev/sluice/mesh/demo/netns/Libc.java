package dev.sluice.mesh.demo.netns;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * The few libc calls the demo needs, through the Foreign Function &amp; Memory API (no native build
 * step): {@code geteuid()}, and {@code setns(open(path), CLONE_NEWNET)} to move the calling thread
 * into a network namespace. Sockets belong to the namespace of the thread that created them, so a
 * thread that entered a pod's namespace opens sockets inside the pod.
 */
final class Libc {
  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 0x80000;
  private static final int CLONE_NEWNET = 0x40000000;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
  private static final MethodHandle GETEUID = downcall("geteuid", FunctionDescriptor.of(JAVA_INT));
  private static final MethodHandle OPEN = downcall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
  private static final MethodHandle SETNS = downcall("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
  private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  private static final MethodHandle STRERROR = downcall("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

  private Libc() {}

  private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
    return LINKER.downcallHandle(LINKER.defaultLookup().find(name)
        .orElseThrow(() -> new IllegalStateException("libc has no " + name)), fd, options);
  }

  static int geteuid() {
    try {
      return (int) GETEUID.invokeExact();
    } catch (Throwable e) {
      throw new IllegalStateException("geteuid() failed", e);
    }
  }

  /**
   * Moves the calling thread (only it) into the network namespace {@code namespaceFile}
   * ({@code /var/run/netns/NAME} as {@code ip netns add} makes it, or {@code /proc/PID/ns/net}).
   *
   * @throws IllegalStateException naming the file and the system's reason (not root: EPERM)
   */
  static void enterNetworkNamespace(Path namespaceFile) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(CALL_STATE);
      int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(namespaceFile.toString()), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        throw new IllegalStateException("cannot open " + namespaceFile + ": " + strerror(errno(state)));
      }
      try {
        int rc = (int) SETNS.invokeExact(state, fd, CLONE_NEWNET);
        if (rc != 0) {
          throw new IllegalStateException("setns(" + namespaceFile + ", CLONE_NEWNET): " + strerror(errno(state)));
        }
      } finally {
        int ignored = (int) CLOSE.invokeExact(fd);
      }
    } catch (IllegalStateException e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("setns(" + namespaceFile + ") failed", e);
    }
  }

  private static int errno(MemorySegment state) {
    return (int) ERRNO.get(state, 0L);
  }

  private static String strerror(int errno) throws Throwable {
    MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
    return s.reinterpret(256).getString(0) + " (errno " + errno + ")";
  }
}
