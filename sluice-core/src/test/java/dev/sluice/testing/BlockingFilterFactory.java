package dev.sluice.testing;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.http.FilterStatus;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterFactory;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A test HTTP filter that holds its worker thread inside {@code decodeHeaders} for requests to
 * {@link #PATH} until the test releases it: the request has started (its route table is taken)
 * but not yet been routed, and the worker runs nothing else meanwhile. Registered (test resources)
 * under {@link #TYPE_URL}; one gate at a time, {@link #arm()}.
 */
public final class BlockingFilterFactory implements HttpFilterFactory<Struct> {
  public static final String TYPE_URL = "type.googleapis.com/test.BlockWorker";
  public static final String PATH = "/block";
  private static volatile Gate gate;

  /** The two sides of one hold: the filter counts {@code entered} down, then waits for {@code release}. */
  public record Gate(CountDownLatch entered, CountDownLatch release) {}

  /** Arms the next request to {@link #PATH}. */
  public static Gate arm() {
    Gate g = new Gate(new CountDownLatch(1), new CountDownLatch(1));
    gate = g;
    return g;
  }

  /** The filter's typed_config. */
  public static Any config() {
    return Any.newBuilder().setTypeUrl(TYPE_URL).setValue(Struct.getDefaultInstance().toByteString()).build();
  }

  @Override
  public String name() {
    return "test.block_worker";
  }

  @Override
  public String typeUrl() {
    return TYPE_URL;
  }

  @Override
  public Class<Struct> configType() {
    return Struct.class;
  }

  @Override
  public Struct defaultInstance() {
    return Struct.getDefaultInstance();
  }

  @Override
  public Supplier<HttpFilter> create(Struct config, String statPrefix, FactoryContext context) {
    return () -> new HttpFilter() {
      @Override
      public FilterStatus decodeHeaders(Http2Headers headers, boolean endStream) {
        Gate g = gate;
        if (g != null && PATH.contentEquals(headers.path())) {
          gate = null;
          g.entered().countDown();
          try {
            g.release().await(20, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return FilterStatus.CONTINUE;
      }
    };
  }
}
