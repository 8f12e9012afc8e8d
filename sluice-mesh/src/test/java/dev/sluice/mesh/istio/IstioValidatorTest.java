package dev.sluice.mesh.istio;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshState;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.ValidationMessage;
import dev.sluice.mesh.xds.IstioTranslator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** {@code istioctl analyze}-style findings for broken variants of the Bookinfo files (src/test/resources/broken). */
class IstioValidatorTest {
  private static final Path BROKEN = Path.of("src/test/resources/broken");
  private static final ServiceRegistry REGISTRY = new RegistryBuilder().build(MeshYaml.load(MeshYamlTest.PLATFORM), true);

  /** The file's resources over destination-rule-all.yaml (and bookinfo-gateway.yaml's Gateway), as the tasks apply them. */
  private static List<ValidationMessage> validate(String file) {
    List<MeshResource> resources = new ArrayList<>(MeshYaml.load(MeshYamlTest.NETWORKING.resolve("destination-rule-all.yaml")));
    resources.addAll(MeshYaml.load(BROKEN.resolve(file)));
    return new IstioTranslator().validate(new MeshState(1, resources, REGISTRY));
  }

  private static String source(String file, int doc) {
    return BROKEN.resolve(file) + "#" + doc;
  }

  @Test
  void everyBookinfoTaskFileIsValid() throws Exception {
    List<MeshResource> base = MeshYaml.load(MeshYamlTest.NETWORKING.resolve("destination-rule-all.yaml"));
    try (Stream<Path> files = Files.list(MeshYamlTest.NETWORKING)) {
      for (Path f : files.sorted().toList()) {
        List<MeshResource> resources = new ArrayList<>(f.getFileName().toString().startsWith("destination-rule") ? List.of() : base);
        List<MeshResource> own = MeshYaml.load(f);
        // fault-injection-details-v1.yaml brings its own details rule; drop the base one it replaces.
        resources.removeIf(r -> own.stream().anyMatch(o -> o.key().equals(r.key())));
        resources.addAll(own);
        assertThat(new IstioTranslator().validate(new MeshState(1, resources, REGISTRY))).as(f.toString()).isEmpty();
      }
    }
  }

  @Test
  void unknownHost() {
    assertThat(validate("unknown-host.yaml")).containsExactly(new ValidationMessage(ValidationMessage.Level.ERROR,
        source("unknown-host.yaml", 0), "VirtualService/default/reviews", "spec.http[0].route[0].destination.host",
        "Referenced host not found: \"reviewz\""));
  }

  @Test
  void subsetNotDefinedInAnyDestinationRule() {
    assertThat(validate("unknown-subset.yaml")).containsExactly(new ValidationMessage(ValidationMessage.Level.ERROR,
        source("unknown-subset.yaml", 0), "VirtualService/default/reviews", "spec.http[0].route[1].destination.subset",
        "Referenced host+subset in destinationrule not found: \"reviews+v4\""));
  }

  @Test
  void weightsNotSummingTo100() {
    List<ValidationMessage> m = validate("bad-weights.yaml");
    assertThat(m).containsExactly(new ValidationMessage(ValidationMessage.Level.ERROR,
        source("bad-weights.yaml", 0), "VirtualService/default/reviews", "spec.http[0].route[1].weight",
        "total destination weight 110 != 100"));
    assertThat(m.getFirst().toString()).isEqualTo("ERROR [" + source("bad-weights.yaml", 0)
        + "] VirtualService/default/reviews spec.http[0].route[1].weight: total destination weight 110 != 100");
  }

  @Test
  void gatewayNotFound() {
    assertThat(validate("missing-gateway.yaml")).containsExactly(new ValidationMessage(ValidationMessage.Level.ERROR,
        source("missing-gateway.yaml", 0), "VirtualService/default/bookinfo", "spec.gateways[0]",
        "Referenced gateway not found: \"bookinfo-gatewayy\""));
  }

  @Test
  void duplicateResource() {
    assertThat(validate("duplicate.yaml")).containsExactly(new ValidationMessage(ValidationMessage.Level.ERROR,
        source("duplicate.yaml", 1), "VirtualService/default/ratings", "metadata.name",
        "duplicate VirtualService default/ratings (also defined in " + source("duplicate.yaml", 0) + ")"));
  }

  @Test
  void malformedFieldsEachNamed() {
    List<ValidationMessage> m = validate("malformed.yaml");
    assertThat(m).allSatisfy(v -> {
      assertThat(v.level()).isEqualTo(ValidationMessage.Level.ERROR);
      assertThat(v.source()).isEqualTo(source("malformed.yaml", 0));
      assertThat(v.resource()).isEqualTo("VirtualService/default/ratings");
    });
    assertThat(m).extracting(ValidationMessage::field, ValidationMessage::message).containsExactlyInAnyOrder(
        org.assertj.core.groups.Tuple.tuple("spec.http[0].match[0].headers.end-user",
            "must be a match with one of exact, prefix or regex (e.g. {exact: value}), not the string \"jason\""),
        org.assertj.core.groups.Tuple.tuple("spec.http[0].match[1].uri", "must set only one of exact, prefix or regex, not exact and prefix"),
        org.assertj.core.groups.Tuple.tuple("spec.http[0].route[0].weigth", "unknown field \"weigth\""),
        org.assertj.core.groups.Tuple.tuple("spec.http[0].timeout", "invalid duration integer 10 (use a number with a unit: 7s, 1.5s, 100ms, 1m)"),
        org.assertj.core.groups.Tuple.tuple("spec.http[0].fault.delay.fixedDelay",
            "invalid duration \"7x\" (use a number with a unit: 7s, 1.5s, 100ms, 1m)"));
  }

  @Test
  void multiPortServiceNeedsADestinationPortAndBadPercentagesAreRefused() {
    List<MeshResource> resources = new ArrayList<>(MeshYaml.parse("""
        apiVersion: v1
        kind: Service
        metadata: {name: two}
        spec: {selector: {app: two}, ports: [{name: http, port: 80}, {name: http-admin, port: 8080}]}
        """, "reg.yaml"));
    ServiceRegistry registry = new RegistryBuilder().build(resources, false);
    List<MeshResource> istio = MeshYaml.parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: two}
        spec:
          hosts: [two]
          http:
          - fault: {abort: {httpStatus: 503, percentage: {value: 120}}}
            route: [{destination: {host: two}}]
          - route: [{destination: {host: two, port: {number: 9999}}}]
        """, "vs.yaml");
    assertThat(new IstioTranslator().validate(new MeshState(1, istio, registry)))
        .extracting(ValidationMessage::field, ValidationMessage::message).containsExactly(
            org.assertj.core.groups.Tuple.tuple("spec.http[0].fault.abort.percentage.value", "percentage must be in 0..100: 120.0"),
            org.assertj.core.groups.Tuple.tuple("spec.http[0].route[0].destination.port",
                "service two.default.svc.cluster.local has 2 ports: the destination must name one"),
            org.assertj.core.groups.Tuple.tuple("spec.http[1].route[0].destination.port.number",
                "service two.default.svc.cluster.local has no port 9999"));
  }

  @Test
  void routesThisControlPlaneCannotBuildAreErrors() {
    List<MeshResource> istio = MeshYaml.parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: details}
        spec:
          hosts: [details]
          http:
          - directResponse: {status: 418}
        """, "dr.yaml");
    assertThat(new IstioTranslator().validate(new MeshState(1, istio, REGISTRY)))
        .extracting(ValidationMessage::field, ValidationMessage::message)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("spec.http[0].directResponse", "directResponse is not supported by this control plane"));
  }

  @Test
  void goDurations() {
    assertThat(SpecReader.parseDuration("7s")).hasSeconds(7);
    assertThat(SpecReader.parseDuration("1.5s")).hasMillis(1500);
    assertThat(SpecReader.parseDuration("1m30s")).hasSeconds(90);
    assertThat(SpecReader.parseDuration("100ms")).hasMillis(100);
    assertThat(SpecReader.parseDuration("7x")).isNull();
    assertThat(SpecReader.parseDuration("s")).isNull();
    assertThat(SpecReader.parseDuration("-1s")).isNull();
  }

  @Test
  void sidecarHostsAreCheckedAndUnsupportedFieldsReported() {
    List<MeshResource> resources = new ArrayList<>(MeshYaml.parse("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: bad, namespace: default}
        spec:
          ingress:
          - port: {number: 9080, protocol: HTTP, name: http}
          egress:
          - port: {number: 9080, protocol: HTTP, name: http}
            captureMode: NONE
            hosts: [reviews.default.svc.cluster.local, "Default/reviews", "./bad_name", "./*", "istio-system/*.example.com"]
          outboundTrafficPolicy: {mode: BLOCK}
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: second-default, namespace: default}
        spec:
          egress:
          - hosts: ["*/*"]
        """, "sc.yaml"));
    List<ValidationMessage> messages = new IstioTranslator().validate(new MeshState(1, resources, REGISTRY));
    assertThat(messages).extracting(ValidationMessage::level, ValidationMessage::source, ValidationMessage::resource, ValidationMessage::field)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple(ValidationMessage.Level.WARNING, "sc.yaml#0", "Sidecar/default/bad", "spec.ingress"),
            org.assertj.core.groups.Tuple.tuple(ValidationMessage.Level.WARNING, "sc.yaml#0", "Sidecar/default/bad", "spec.egress[0].port"),
            org.assertj.core.groups.Tuple.tuple(ValidationMessage.Level.WARNING, "sc.yaml#0", "Sidecar/default/bad", "spec.egress[0].captureMode"),
            org.assertj.core.groups.Tuple.tuple(ValidationMessage.Level.ERROR, "sc.yaml#0", "Sidecar/default/bad", "spec.egress[0].hosts[0]"),
            org.assertj.core.groups.Tuple.tuple(ValidationMessage.Level.ERROR, "sc.yaml#0", "Sidecar/default/bad", "spec.egress[0].hosts[1]"),
            org.assertj.core.groups.Tuple.tuple(ValidationMessage.Level.ERROR, "sc.yaml#0", "Sidecar/default/bad", "spec.egress[0].hosts[2]"),
            org.assertj.core.groups.Tuple.tuple(ValidationMessage.Level.ERROR, "sc.yaml#0", "Sidecar/default/bad", "spec.outboundTrafficPolicy.mode"),
            org.assertj.core.groups.Tuple.tuple(ValidationMessage.Level.ERROR, "sc.yaml#1", "Sidecar/default/second-default", "spec.workloadSelector"));
    assertThat(messages.stream().filter(m -> m.field().equals("spec.egress[0].hosts[0]")).findFirst().orElseThrow().message())
        .contains("namespace/dnsName");
  }
}
