package dev.sluice.admin;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;

/**
 * The admin loop's transport: epoll when the native library loads, NIO otherwise. The epoll
 * classes are looked up by name because the build puts Netty's epoll artifact on the runtime
 * class path only.
 */
record AdminTransport(String name, IoHandlerFactory ioHandler,
    Class<? extends ServerChannel> serverChannel) {

  static AdminTransport best() {
    try {
      Class<?> epoll = Class.forName("io.netty.channel.epoll.Epoll");
      if ((Boolean) epoll.getMethod("isAvailable").invoke(null)) {
        IoHandlerFactory factory = (IoHandlerFactory) Class
            .forName("io.netty.channel.epoll.EpollIoHandler").getMethod("newFactory").invoke(null);
        Class<? extends ServerChannel> channel = Class
            .forName("io.netty.channel.epoll.EpollServerSocketChannel")
            .asSubclass(ServerChannel.class);
        return new AdminTransport("epoll", factory, channel);
      }
    } catch (ReflectiveOperationException | LinkageError e) {
      // No usable epoll here: fall back to NIO below.
    }
    return new AdminTransport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class);
  }

  /** A one-thread loop: admin work is light and must not compete with the workers. */
  EventLoopGroup newGroup() {
    return new MultiThreadIoEventLoopGroup(1, ioHandler);
  }
}
