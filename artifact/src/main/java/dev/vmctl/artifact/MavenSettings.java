package dev.vmctl.artifact;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * The mirror of Maven Central that a Maven {@code settings.xml} names ({@code <mirrors><mirror><mirrorOf>central}, or
 * {@code *} / {@code external:*} without {@code !central}), the way Maven itself picks it: the first mirror that
 * matches. vmctl takes it as the default repository of {@code maven=} artifacts when {@code VMCTL_MAVEN_REPO} is not
 * set (an artifact's own {@code repo} always wins). Read with the JDK's XML parser, external entities off.
 */
public final class MavenSettings {
    private MavenSettings() {}

    /** {@code VMCTL_MAVEN_SETTINGS}, else {@code ~/.m2/settings.xml}. */
    public static Path defaultFile() {
        String env = System.getenv("VMCTL_MAVEN_SETTINGS");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".m2", "settings.xml");
    }

    /** The URL of the first mirror of {@code central} in {@code settings}, if the file exists and names one. */
    public static Optional<String> centralMirror(Path settings) {
        if (settings == null || !Files.isRegularFile(settings)) return Optional.empty();
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            Document d = f.newDocumentBuilder().parse(settings.toFile());
            NodeList mirrors = d.getElementsByTagName("mirror");
            for (int i = 0; i < mirrors.getLength(); i++) {
                Element m = (Element) mirrors.item(i);
                String of = text(m, "mirrorOf");
                String url = text(m, "url");
                if (url == null || url.isBlank() || of == null || !mirrorsCentral(of)) continue;
                return Optional.of(url.strip());
            }
            return Optional.empty();
        } catch (Exception e) {
            return Optional.empty(); // an unreadable settings file: Maven Central as before
        }
    }

    /** Maven's mirrorOf rules for the repository id {@code central}: a list of ids, {@code *}, {@code external:*}, {@code !id}. */
    static boolean mirrorsCentral(String mirrorOf) {
        String[] ids = Arrays.stream(mirrorOf.split(",")).map(String::strip).toArray(String[]::new);
        boolean match = false;
        for (String id : ids) {
            if (id.equals("!central")) return false;
            if (id.equals("central") || id.equals("*") || id.equals("external:*")) match = true;
        }
        return match;
    }

    private static String text(Element parent, String tag) {
        NodeList n = parent.getElementsByTagName(tag);
        return n.getLength() == 0 ? null : n.item(0).getTextContent();
    }
}
