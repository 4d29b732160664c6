//! Unit tests of the configuration: defaults, the TOML file, validation.

use super::*;

fn write(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wos-emu-config-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("emulator.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn default_is_the_valid_demo_config() {
    let c = EmulatorConfig::default();
    c.validate().unwrap();
    assert_eq!(c.users[0].email, DEMO_USER_EMAIL);
    assert_eq!(c.expires_in, Duration::from_secs(300));
    assert_eq!(c.interval, Duration::from_secs(5));
}

#[test]
fn an_empty_file_gives_the_demo_user() {
    let c = EmulatorConfig::from_toml_file(&write("empty", "")).unwrap();
    assert_eq!(c, EmulatorConfig::default());
}

#[test]
fn a_full_file_is_read() {
    let path = write(
        "full",
        r#"
        issuer = "https://api.workos.com/"
        expires_in = 60
        interval = 2
        clients = ["client_a"]
        [[organizations]]
        id = "org_1"
        name = "One"
        [[users]]
        email = "ada@example.com"
        first_name = "Ada"
        memberships = [{ organization_id = "org_1", role = "admin", permissions = ["p:w"] }]
        "#,
    );
    let c = EmulatorConfig::from_toml_file(&path).unwrap();
    assert_eq!(c.expires_in, Duration::from_secs(60));
    assert_eq!(c.interval, Duration::from_secs(2));
    assert_eq!(c.clients, ["client_a"]);
    assert_eq!(c.users.len(), 1);
    assert_eq!(c.users[0].memberships[0].role, "admin");
    assert!(c.users[0].email_verified);
}

#[test]
fn typos_and_dangling_memberships_are_rejected() {
    assert!(EmulatorConfig::from_toml_file(&write("typo", "intervall = 3")).is_err());
    let dangling = "[[users]]\nemail = \"a@b.c\"\nmemberships = [{ organization_id = \"org_x\" }]";
    let err = EmulatorConfig::from_toml_file(&write("dangling", dangling)).unwrap_err();
    assert!(err.to_string().contains("org_x"), "{err}");
}

#[test]
fn max_grants_is_read_and_must_be_positive() {
    assert_eq!(EmulatorConfig::default().max_grants, 10_000);
    let c = EmulatorConfig::from_toml_file(&write("max-grants", "max_grants = 50000")).unwrap();
    assert_eq!(c.max_grants, 50_000);
    let err = EmulatorConfig::from_toml_file(&write("max-grants-0", "max_grants = 0")).unwrap_err();
    assert!(err.to_string().contains("max_grants"), "{err}");
}
