package dev.sluice.listener;

import io.netty.channel.Channel;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.SocketChannel;

/**
 * The epoll transport, reached by name: {@code netty-transport-classes-epoll} is a runtime-only
 * dependency of this module, so its classes are loaded here, once, and nowhere else.
 */
final class NativeTransport {
  private static final String PACKAGE = "io.netty.channel.epoll.";
  private static final boolean AVAILABLE = probe();

  private NativeTransport() {}

  static boolean epollAvailable() {
    return AVAILABLE;
  }

  private static boolean probe() {
    try {
      return (Boolean) Class.forName(PACKAGE + "Epoll").getMethod("isAvailable").invoke(null);
    } catch (ReflectiveOperationException | LinkageError e) {
      return false;
    }
  }

  /** Netty's epoll handler, corrected for an empty interest set ({@link ReregisteringEpollIoHandler}). */
  static IoHandlerFactory epollHandlerFactory() {
    try {
      IoHandlerFactory epoll = (IoHandlerFactory) Class.forName(PACKAGE + "EpollIoHandler").getMethod("newFactory").invoke(null);
      IoOps none = (IoOps) Class.forName(PACKAGE + "EpollIoOps").getField("NONE").get(null);
      return ReregisteringEpollIoHandler.factory(epoll, none);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("epoll transport unavailable", e);
    }
  }

  static Class<? extends ServerChannel> epollServerChannel() {
    return load("EpollServerSocketChannel", ServerChannel.class);
  }

  static Class<? extends SocketChannel> epollSocketChannel() {
    return load("EpollSocketChannel", SocketChannel.class);
  }

  static Class<? extends Channel> epollDomainSocketChannel() {
    return load("EpollDomainSocketChannel", Channel.class);
  }

  private static <T> Class<? extends T> load(String simpleName, Class<T> type) {
    try {
      return Class.forName(PACKAGE + simpleName).asSubclass(type);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("epoll transport unavailable", e);
    }
  }
}
