package dev.sluice.bookinfo;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/** A service wrapper that keeps every request it passes on, so tests can see what arrived. */
final class Recorder implements ServiceHandler {
  private final ServiceHandler delegate;
  private final ConcurrentLinkedQueue<ServiceRequest> requests = new ConcurrentLinkedQueue<>();

  Recorder(ServiceHandler delegate) {
    this.delegate = delegate;
  }

  @Override
  public ServiceResponse handle(ServiceRequest request) throws Exception {
    requests.add(request);
    return delegate.handle(request);
  }

  List<ServiceRequest> requests() {
    return List.copyOf(requests);
  }

  ServiceRequest last() {
    List<ServiceRequest> all = requests();
    return all.getLast();
  }

  void clear() {
    requests.clear();
  }
}
