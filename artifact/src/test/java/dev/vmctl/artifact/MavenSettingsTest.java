package dev.vmctl.artifact;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The mirror of Central a settings.xml names, by Maven's mirrorOf rules. */
class MavenSettingsTest {
    @Test
    void theFirstMirrorOfCentralIsTaken(@TempDir Path d) throws Exception {
        Path s = d.resolve("settings.xml");
        Files.writeString(s, """
                <settings>
                  <mirrors>
                    <mirror><id>other</id><mirrorOf>thirdparty</mirrorOf><url>http://127.0.0.1:1/other</url></mirror>
                    <mirror><id>all-but</id><mirrorOf>*,!central</mirrorOf><url>http://127.0.0.1:1/not-central</url></mirror>
                    <mirror><id>corp</id><mirrorOf>external:*</mirrorOf><url> https://maven.example.org/central/ </url></mirror>
                    <mirror><id>late</id><mirrorOf>central</mirrorOf><url>http://127.0.0.1:1/late</url></mirror>
                  </mirrors>
                </settings>
                """);
        assertThat(MavenSettings.centralMirror(s)).contains("https://maven.example.org/central/");
        assertThat(MavenSettings.mirrorsCentral("central")).isTrue();
        assertThat(MavenSettings.mirrorsCentral("a, *")).isTrue();
        assertThat(MavenSettings.mirrorsCentral("*,!central")).isFalse();
        assertThat(MavenSettings.mirrorsCentral("thirdparty")).isFalse();
    }

    @Test
    void noFileNoMirrorOrBrokenXmlMeanCentral(@TempDir Path d) throws Exception {
        assertThat(MavenSettings.centralMirror(d.resolve("missing.xml"))).isEmpty();
        Path s = d.resolve("settings.xml");
        Files.writeString(s, "<settings><localRepository>/x</localRepository></settings>");
        assertThat(MavenSettings.centralMirror(s)).isEmpty();
        Files.writeString(s, "<settings><mirrors><mirror>");
        assertThat(MavenSettings.centralMirror(s)).isEmpty();
        // no external entities (a DOCTYPE is refused: nothing is read from elsewhere)
        Files.writeString(s, "<!DOCTYPE s [<!ENTITY x SYSTEM \"file:///etc/hostname\">]><settings><mirrors><mirror><mirrorOf>central</mirrorOf>"
                + "<url>&x;</url></mirror></mirrors></settings>");
        assertThat(MavenSettings.centralMirror(s)).isEmpty();
    }
}
