package dev.sluice.mesh.istio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.mesh.model.MeshService;
import dev.sluice.mesh.model.ServicePort;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.Workload;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RegistryBuilderTest {

  @Test
  void bookinfoServicesAndWorkloads() {
    ServiceRegistry r = new RegistryBuilder().build(MeshYaml.load(MeshYamlTest.PLATFORM), false);
    assertThat(r.services()).extracting(MeshService::hostname).containsExactly(
        "details.default.svc.cluster.local", "ratings.default.svc.cluster.local",
        "reviews.default.svc.cluster.local", "productpage.default.svc.cluster.local");
    MeshService reviews = r.services().get(2);
    assertThat(reviews.ports()).containsExactly(new ServicePort("http", 9080, 9080, "HTTP"));
    assertThat(reviews.selector()).isEqualTo(Map.of("app", "reviews"));
    assertThat(reviews.vip()).startsWith("10.96.");
    assertThat(r.workloads()).extracting(Workload::name)
        .containsExactly("details-v1", "ratings-v1", "reviews-v1", "reviews-v2", "reviews-v3", "productpage-v1");
    Workload v2 = r.workloads().get(3);
    assertThat(v2.labels()).containsEntry("app", "reviews").containsEntry("version", "v2");
    assertThat(v2.serviceAccount()).isEqualTo("bookinfo-reviews");
    assertThat(v2.address()).isEqualTo("127.0.1.4");
    assertThat(v2.appAddress()).isEqualTo("127.1.1.4");
    assertThat(r.workloads()).extracting(Workload::address).doesNotHaveDuplicates().allMatch(a -> a.startsWith("127.0.1."));
  }

  @Test
  void addressesStayPutAcrossReReadsAndAdditions() {
    AddressAllocator allocator = new AddressAllocator();
    RegistryBuilder builder = new RegistryBuilder(allocator);
    ServiceRegistry first = builder.build(MeshYaml.load(MeshYamlTest.PLATFORM), false);
    var more = new java.util.ArrayList<>(MeshYaml.parse("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: aaa-v1}
        spec:
          template:
            metadata: {labels: {app: aaa}}
            spec: {containers: [{name: a}]}
        """, "extra.yaml"));
    more.addAll(MeshYaml.load(MeshYamlTest.PLATFORM));
    ServiceRegistry second = builder.build(more, false);
    for (Workload w : first.workloads()) {
      Workload again = second.workloads().stream().filter(x -> x.name().equals(w.name())).findFirst().orElseThrow();
      assertThat(again.address()).as(w.name()).isEqualTo(w.address());
    }
    assertThat(second.workloads().getFirst().address()).isEqualTo("127.0.1.7");
    assertThat(second.services()).extracting(MeshService::vip).isEqualTo(first.services().stream().map(MeshService::vip).toList());
    // A fresh allocator over the same files gives the same addresses: deterministic.
    assertThat(new RegistryBuilder().build(MeshYaml.load(MeshYamlTest.PLATFORM), false)).isEqualTo(first);
  }

  @Test
  void ingressGatewayWorkloadOnRequest() {
    ServiceRegistry r = new RegistryBuilder().build(MeshYaml.load(MeshYamlTest.PLATFORM), true);
    Workload gw = r.workloads().getLast();
    assertThat(gw.name()).isEqualTo("istio-ingressgateway");
    assertThat(gw.namespace()).isEqualTo("istio-system");
    assertThat(gw.labels()).containsEntry("istio", "ingressgateway");
    assertThat(gw.address()).isEqualTo("127.0.0.1");
  }

  @Test
  void protocolSelectionTargetPortsServiceEntriesAndWorkloadEntries() {
    ServiceRegistry r = new RegistryBuilder().build(MeshYaml.parse("""
        apiVersion: v1
        kind: Service
        metadata: {name: multi, namespace: shop}
        spec:
          selector: {app: multi}
          ports:
          - {name: http-web, port: 80, targetPort: web}
          - {name: grpc, port: 7070, targetPort: 7071}
          - {name: metrics, port: 9090, appProtocol: http2}
          - {name: db, port: 5432}
          - {port: 53, protocol: UDP}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: multi-v1, namespace: shop}
        spec:
          template:
            metadata: {labels: {app: multi}}
            spec: {containers: [{name: m, ports: [{name: web, containerPort: 8080}]}]}
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: ext}
        spec:
          hosts: [api.example.com]
          addresses: [240.0.0.1]
          ports: [{number: 443, name: https, protocol: TLS}]
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: vm1}
        spec: {address: 127.0.9.9, labels: {app: legacy}}
        """, "multi.yaml"), false);
    assertThat(r.services().getFirst().ports()).containsExactly(
        new ServicePort("http-web", 80, 8080, "HTTP"),
        new ServicePort("grpc", 7070, 7071, "GRPC"),
        new ServicePort("metrics", 9090, 9090, "HTTP2"),
        new ServicePort("db", 5432, 5432, "UNSUPPORTED"),
        new ServicePort("", 53, 53, "UDP"));
    assertThat(r.services().getFirst().hostname()).isEqualTo("multi.shop.svc.cluster.local");
    MeshService ext = r.services().get(1);
    assertThat(ext.hostname()).isEqualTo("api.example.com");
    assertThat(ext.vip()).isEqualTo("240.0.0.1");
    assertThat(ext.ports()).containsExactly(new ServicePort("https", 443, 443, "TLS"));
    assertThat(r.workloads()).extracting(Workload::name, Workload::address)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("multi-v1", "127.0.1.1"), org.assertj.core.groups.Tuple.tuple("vm1", "127.0.9.9"));
  }

  @Test
  void malformedRegistryDocumentsAreNamed() {
    assertThatThrownBy(() -> new RegistryBuilder().build(MeshYaml.parse("""
        apiVersion: v1
        kind: Service
        metadata: {name: s}
        spec: {ports: [{port: http}]}
        """, "s.yaml"), false))
        .isInstanceOf(MeshYamlException.class)
        .hasMessage("s.yaml#0: Service/default/s: spec.ports[0].port must be an integer");
    assertThat(Protocols.select("http2-x", null, null)).isEqualTo("HTTP2");
    assertThat(Protocols.select("grpc-web", null, null)).isEqualTo("GRPC-Web");
    assertThat(Protocols.select("tcp", "kubernetes.io/h2c", null)).isEqualTo("HTTP2");
    assertThat(Protocols.select(null, null, null)).isEqualTo("UNSUPPORTED");
    assertThat(List.of(Protocols.isHttp("HTTP"), Protocols.isHttp("TCP"))).containsExactly(true, false);
  }
}
