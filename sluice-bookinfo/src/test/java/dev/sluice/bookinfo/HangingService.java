package dev.sluice.bookinfo;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** A service that accepts requests and never answers until released: a stand-in for a stuck upstream. */
final class HangingService implements ServiceHandler {
  private final AtomicInteger received = new AtomicInteger();
  private final CountDownLatch release = new CountDownLatch(1);

  @Override
  public ServiceResponse handle(ServiceRequest request) throws InterruptedException {
    received.incrementAndGet();
    release.await();
    return ServiceResponse.text(503, "released");
  }

  int received() {
    return received.get();
  }

  void release() {
    release.countDown();
  }
}
