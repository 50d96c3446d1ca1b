package dev.vmctl.model;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ArtifactSpecTest {
    private static List<String> fields(ArtifactSpec s) {
        return s.problems(true).stream().map(ArtifactSpec.Problem::field).toList();
    }

    @Test
    void parsesTheCliForm() {
        ArtifactSpec s = ArtifactSpec.parse("src=./build/app,dest=/opt/app,mode=0755");
        assertThat(s.src()).isEqualTo("./build/app");
        assertThat(s.dest()).isEqualTo("/opt/app");
        assertThat(s.mode()).isEqualTo("0755");
        assertThat(s.kind()).isEqualTo(ArtifactSpec.Kind.SRC);
        assertThat(s.problems(true)).isEmpty();

        ArtifactSpec u = ArtifactSpec.parse("url=http://127.0.0.1:8080/tool.tar.gz?x=1,sha256=" + "a".repeat(64) + ",dest=/opt/tool.tar.gz");
        assertThat(u.url()).isEqualTo("http://127.0.0.1:8080/tool.tar.gz?x=1");
        assertThat(u.problems(true)).isEmpty();

        ArtifactSpec m = ArtifactSpec.parse("maven=org.apache.commons:commons-lang3:3.17.0,dest=/opt/lib/");
        assertThat(m.destIsDirectory()).isTrue();
        assertThat(m.describe()).isEqualTo("maven=org.apache.commons:commons-lang3:3.17.0");
        assertThat(m.problems(true)).isEmpty();

        ArtifactSpec g = ArtifactSpec.parse("git=/srv/cfg.git,ref=v1.2,dest=/etc/app,owner=1000:1000");
        assertThat(g.describe()).isEqualTo("git=/srv/cfg.git@v1.2");
        assertThat(g.problems(true)).isEmpty();
    }

    @Test
    void badCliFormsAreRefused() {
        assertThatThrownBy(() -> ArtifactSpec.parse("src=/a,colour=red")).hasMessageContaining("unknown key 'colour'");
        assertThatThrownBy(() -> ArtifactSpec.parse("src=/a,src=/b")).hasMessageContaining("given twice");
        assertThatThrownBy(() -> ArtifactSpec.parse("just-a-path")).hasMessageContaining("not key=value");
        assertThatThrownBy(() -> ArtifactSpec.parse("")).hasMessageContaining("empty");
    }

    @Test
    void everyFieldIsChecked() {
        assertThat(fields(ArtifactSpec.parse("dest=/x"))).containsExactly("src");
        assertThat(fields(ArtifactSpec.parse("src=/a,url=http://h/x,dest=/x"))).contains("src");
        assertThat(fields(ArtifactSpec.parse("src=/a"))).containsExactly("dest");
        assertThat(ArtifactSpec.parse("src=/a").problems(false)).isEmpty();
        assertThat(fields(ArtifactSpec.parse("src=/a,dest=opt/app"))).containsExactly("dest");
        assertThat(fields(ArtifactSpec.parse("src=/a,dest=/"))).containsExactly("dest");
        assertThat(fields(ArtifactSpec.parse("src=/a,dest=/opt/../etc"))).containsExactly("dest");
        assertThat(fields(ArtifactSpec.parse("src=/a,dest=/x,mode=999"))).containsExactly("mode");
        assertThat(fields(ArtifactSpec.parse("src=/a,dest=/x,mode=rwx"))).containsExactly("mode");
        assertThat(fields(ArtifactSpec.parse("src=/a,dest=/x,owner=root:adm:x"))).containsExactly("owner");
        assertThat(fields(ArtifactSpec.parse("src=/a,dest=/x,owner=a b"))).containsExactly("owner");
        assertThat(fields(ArtifactSpec.parse("url=http://h/x,dest=/x"))).containsExactly("sha256");
        assertThat(fields(ArtifactSpec.parse("url=ftp://h/x,dest=/x,sha256=" + "0".repeat(64)))).containsExactly("url");
        assertThat(fields(ArtifactSpec.parse("src=/a,dest=/x,sha256=abc"))).containsExactly("sha256");
        assertThat(fields(ArtifactSpec.parse("maven=org.x:y,dest=/x"))).containsExactly("maven");
        assertThat(fields(ArtifactSpec.parse("maven=org.x::1.0,dest=/x"))).containsExactly("maven");
        assertThat(fields(ArtifactSpec.parse("maven=org.x:y:zip:linux:1.0,dest=/x"))).isEmpty();
        assertThat(fields(ArtifactSpec.parse("src=/a,dest=/x,ref=v1"))).containsExactly("ref");
        assertThat(fields(ArtifactSpec.parse("git=/r.git,dest=/x,sha256=" + "0".repeat(64)))).containsExactly("sha256");
        assertThat(fields(ArtifactSpec.parse("src=/a,dest=/x,repo=https://r/"))).containsExactly("repo");
        assertThat(fields(ArtifactSpec.parse("maven=a:b:1,dest=/x,repo=ftp://r/"))).containsExactly("repo");
    }

    @Test
    void checkNamesTheFieldAndTheArtifact() {
        assertThatThrownBy(() -> ArtifactSpec.parse("url=http://h/x,dest=/x").check("artifacts[1]", true))
                .isInstanceOf(VmctlException.class)
                .hasMessageContaining("artifacts[1].sha256").hasMessageContaining("url=http://h/x");
    }
}
