package dev.sluice.bench.grpc;

import io.grpc.Server;
import io.grpc.benchmarks.qps.AsyncServer;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;

/**
 * The gRPC backend of bench/compare: grpc-java's benchmark service ({@code BenchmarkService}:
 * unary {@code UnaryCall} and ping-pong {@code StreamingCall}, the service AsyncServer serves)
 * on 127.0.0.1 only, since AsyncServer re-binds its {@code --address} to every interface. Calls
 * run on the transport threads (AsyncServer's {@code --directexecutor}); Netty uses epoll when its
 * native library loads. Usage: {@code LoopbackAsyncServer PORT}; runs until killed.
 */
public final class LoopbackAsyncServer {
  private LoopbackAsyncServer() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .addService(new AsyncServer.BenchmarkServiceImpl())
        .directExecutor()
        .build()
        .start();
    System.out.println("gRPC benchmark server on 127.0.0.1:" + server.getPort());
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    server.awaitTermination();
  }
}
