package org.circuittracer.viewer;

import org.circuittracer.testkit.SharedFixtures;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's Chromium driven by Selenium, with an explicit binary and driver so Selenium Manager never runs. Tests are
 * skipped (with the reason) when chromium or chromedriver is not installed. The browser console is recorded
 * ({@code goog:loggingPrefs}), so tests can assert that a page logs no error ({@link #consoleErrors()}).
 */
final class Browser implements AutoCloseable {

    final ChromeDriver driver;
    final WebDriverWait wait;
    private final Path profile;

    private Browser(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
        this.wait = new WebDriverWait(driver, Duration.ofSeconds(60)); // generous: a loaded 2-core machine
    }

    static Browser open() {
        String binary = System.getProperty("chromium.binary", "/usr/bin/chromium");
        String driverPath = System.getProperty("chromium.driver", "/usr/bin/chromedriver");
        if (!(new File(binary).canExecute() && new File(driverPath).canExecute())) {
            // skipped on a developer machine without a browser; a failure under CI, where .ci/run installs them
            SharedFixtures.missing("Browser tests need Debian's chromium and chromium-driver (" + binary + ", "
                    + driverPath + "): apt-get install chromium chromium-driver");
        }
        try {
            Path profile = Files.createTempDirectory("viewer-chromium");
            ChromeOptions o = new ChromeOptions();
            o.setBinary(binary);
            o.addArguments(List.of("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1440,1000", "--user-data-dir=" + profile,
                    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"));
            LoggingPreferences logs = new LoggingPreferences();
            logs.enable(LogType.BROWSER, Level.ALL);
            o.setCapability("goog:loggingPrefs", logs);
            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(new File(driverPath)).usingAnyFreePort().build();
            return new Browser(new ChromeDriver(service, o), profile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    WebDriver driver() {
        return driver;
    }

    /** Opens {@code url} and waits until the page says it is ready ({@code body[data-ready=true]}). */
    void open(String url) {
        driver.get(url);
        wait.until(d -> "true".equals(js("return document.body.dataset.ready")));
    }

    WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    Object js(String script, Object... args) {
        return driver.executeScript(script, args);
    }

    /** Clicks a node where the graph canvas draws it (a real mouse click, optionally with a modifier held). */
    @SuppressWarnings("unchecked")
    void clickNode(String id, Keys modifier) {
        Map<String, Number> p = (Map<String, Number>) js("return window.viewer.graphPane.nodeScreenPosition(arguments[0])",
                id);
        WebElement canvas = find("#pane-graph canvas");
        int dx = (int) Math.round(p.get("x").doubleValue() - canvas.getSize().getWidth() / 2.0);
        int dy = (int) Math.round(p.get("y").doubleValue() - canvas.getSize().getHeight() / 2.0);
        Actions a = new Actions(driver).moveToElement(canvas, dx, dy);
        if (modifier != null) {
            a.keyDown(modifier).click().keyUp(modifier);
        } else {
            a.click();
        }
        a.perform();
    }

    /**
     * The browser console's entries since the previous call (each call drains the log): console messages of the
     * pages, failed requests (e.g. a 404 for {@code /favicon.ico}), uncaught exceptions.
     */
    List<LogEntry> consoleEntries() {
        return driver.manage().logs().get(LogType.BROWSER).getAll();
    }

    /** The console's errors ({@code SEVERE} entries) since the previous call of this or {@link #consoleEntries}. */
    List<String> consoleErrors() {
        return consoleEntries().stream().filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                .map(LogEntry::getMessage).toList();
    }

    /** Saves a PNG of the page or of one element under target/screenshots. */
    void screenshot(String name, WebElement element) {
        try {
            Path dir = Path.of(System.getProperty("screenshot.dir", "target/screenshots"));
            Files.createDirectories(dir);
            byte[] png = element == null ? ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES)
                    : element.getScreenshotAs(OutputType.BYTES);
            Files.write(dir.resolve(name + ".png"), png);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        driver.quit();
        try (var files = Files.walk(profile)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp profile left behind is harmless
        }
    }
}
