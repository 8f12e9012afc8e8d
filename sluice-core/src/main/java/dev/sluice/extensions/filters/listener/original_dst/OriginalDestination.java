package dev.sluice.extensions.filters.listener.original_dst;

import io.netty.channel.Channel;
import io.netty.channel.unix.UnixChannel;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import org.jspecify.annotations.Nullable;

/**
 * Where an accepted connection was originally headed. For connections redirected by iptables
 * REDIRECT/DNAT, Linux keeps it in conntrack and answers {@code getsockopt(SO_ORIGINAL_DST)}
 * ({@code IP6T_SO_ORIGINAL_DST} for IPv6), called here through the Foreign Function API on the
 * epoll channel's descriptor. Otherwise (not redirected, NIO transport, no native access) the
 * original destination is the local address. That covers TPROXY interception ({@code transparent}
 * listeners): the accepted socket's local address already is the original destination, and the
 * kernel either answers the same address (conntrack without NAT) or fails the call (Envoy's case:
 * no NAT entry), which falls back to it.
 */
public final class OriginalDestination {
  private static final int SOL_IP = 0;
  private static final int SOL_IPV6 = 41;
  /** Same value for SO_ORIGINAL_DST and IP6T_SO_ORIGINAL_DST. */
  private static final int SO_ORIGINAL_DST = 80;
  private static final int AF_INET = 2;
  private static final int AF_INET6 = 10;
  private static final @Nullable MethodHandle GETSOCKOPT = getsockopt();

  private OriginalDestination() {}

  /** The original destination of {@code channel}: the conntrack answer, else the local address. */
  public static InetSocketAddress lookup(Channel channel) {
    InetSocketAddress local = (InetSocketAddress) channel.localAddress();
    if (GETSOCKOPT != null && channel instanceof UnixChannel unix && local != null) {
      InetSocketAddress original = query(unix.fd().intValue(), local.getAddress() instanceof java.net.Inet6Address);
      if (original != null) {
        return original;
      }
    }
    return local;
  }

  private static @Nullable InetSocketAddress query(int fd, boolean v6) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment addr = arena.allocate(28); // sizeof(struct sockaddr_in6)
      MemorySegment len = arena.allocate(ValueLayout.JAVA_INT);
      len.set(ValueLayout.JAVA_INT, 0, 28);
      int rc = (int) GETSOCKOPT.invokeExact(fd, v6 ? SOL_IPV6 : SOL_IP, SO_ORIGINAL_DST, addr, len);
      if (rc != 0) {
        return null; // ENOENT: not redirected
      }
      int family = Short.toUnsignedInt(addr.get(ValueLayout.JAVA_SHORT, 0));
      int port = (Byte.toUnsignedInt(addr.get(ValueLayout.JAVA_BYTE, 2)) << 8) | Byte.toUnsignedInt(addr.get(ValueLayout.JAVA_BYTE, 3));
      byte[] ip;
      if (family == AF_INET) {
        ip = addr.asSlice(4, 4).toArray(ValueLayout.JAVA_BYTE);
      } else if (family == AF_INET6) {
        ip = addr.asSlice(8, 16).toArray(ValueLayout.JAVA_BYTE);
      } else {
        return null;
      }
      return new InetSocketAddress(InetAddress.getByAddress(ip), port);
    } catch (UnknownHostException e) {
      return null;
    } catch (Throwable e) {
      throw new IllegalStateException("getsockopt(SO_ORIGINAL_DST) failed", e);
    }
  }

  private static @Nullable MethodHandle getsockopt() {
    try {
      Linker linker = Linker.nativeLinker();
      return linker.defaultLookup()
          .find("getsockopt")
          .map(symbol -> linker.downcallHandle(
              symbol,
              FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS)))
          .orElse(null);
    } catch (RuntimeException | LinkageError e) {
      // No native access granted (--enable-native-access): fall back to the local address.
      return null;
    }
  }
}
