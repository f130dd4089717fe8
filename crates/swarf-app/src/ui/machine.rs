//! The Machine panel: connection, state and DRO, Start / Hold / Resume / Stop / Unlock / Home,
//! jog, overrides, spindle and coolant, MDI and the console; the Start confirmation. Controls
//! that make no sense in the current state are disabled. Nothing here waits on the port.

use egui::{RichText, Ui};
use swarf_machine::runner::LinkKind;
use swarf_machine::{MachineState, Realtime};

use super::{ERR, WARN};
use crate::SwarfApp;
use crate::machine::ConsoleKind;

const OK: egui::Color32 = egui::Color32::from_rgb(120, 200, 120);

pub(crate) fn machine_panel_ui(ui: &mut Ui, app: &mut SwarfApp) {
    ui.heading("Machine");
    connection_ui(ui, app);
    ui.separator();
    dro_ui(ui, app);
    ui.separator();
    run_ui(ui, app);
    ui.separator();
    jog_ui(ui, app);
    ui.separator();
    probe_ui(ui, app);
    ui.separator();
    console_ui(ui, app);
}

/// Probe: a height map of the area the job cuts (G38.2 on a grid), the map in use, and the
/// tool touch-off on a plate.
fn probe_ui(ui: &mut Ui, app: &mut SwarfApp) {
    egui::CollapsingHeader::new("Probe")
        .id_salt("probe")
        .default_open(false)
        .show(ui, |ui| {
            // The settings are the job's ([probe]): saved with the project, undoable.
            let before = app.session.job.probe.clone().unwrap_or_default();
            let mut spec = before.clone();
            let mut rs = Vec::new();
            ui.horizontal(|ui| {
                let l = ui.label("Grid");
                rs.push(ui.add(egui::DragValue::new(&mut spec.grid[0]).range(2..=50)).labelled_by(l.id));
                ui.label("×");
                rs.push(ui.add(egui::DragValue::new(&mut spec.grid[1]).range(2..=50)));
                let l = ui.label("touches");
                rs.push(ui.add(egui::DragValue::new(&mut spec.touches).range(1..=10)).labelled_by(l.id));
            });
            ui.horizontal(|ui| {
                let l = ui.label("Margin around the cuts");
                rs.push(ui.add(egui::DragValue::new(&mut spec.margin_mm).range(0.0..=20.0).suffix(" mm")).labelled_by(l.id));
            });
            ui.horizontal(|ui| {
                let l = ui.label("Feeds");
                rs.push(ui.add(egui::DragValue::new(&mut spec.fast_mm_per_min).range(1.0..=500.0).suffix(" mm/min fast")).labelled_by(l.id));
                rs.push(ui.add(egui::DragValue::new(&mut spec.slow_mm_per_min).range(0.5..=200.0).suffix(" slow")));
            });
            ui.horizontal(|ui| {
                let l = ui.label("Retract");
                rs.push(ui.add(egui::DragValue::new(&mut spec.retract_mm).range(0.01..=5.0).speed(0.01).suffix(" mm")).labelled_by(l.id));
                let l = ui.label("deepest");
                rs.push(ui.add(egui::DragValue::new(&mut spec.max_depth_mm).range(0.05..=20.0).speed(0.01).suffix(" mm")).labelled_by(l.id));
            });
            // Whether anything is cut; the area itself is found on a click, not every frame.
            let cuts = app.session.output.as_deref().is_some_and(|o| {
                o.operations
                    .iter()
                    .any(|(_, _, r)| !r.toolpath.moves.is_empty())
            });
            let m = &mut app.machine;
            if let Some((done, total)) = m.probe_progress {
                ui.horizontal(|ui| {
                    ui.add(egui::ProgressBar::new(done as f32 / total.max(1) as f32).text(format!("probed {done} of {total}")));
                    if ui.button("Stop after this point").clicked() {
                        m.stop_probe();
                    }
                });
            } else {
                let can = m.idle() && cuts;
                let r = ui
                    .add_enabled(can, egui::Button::new("Probe the cut area"))
                    .on_disabled_hover_text(if cuts {
                        "connect, and let the machine be Idle"
                    } else {
                        "the job cuts nothing yet"
                    });
                let area = app
                    .session
                    .output
                    .as_deref()
                    .filter(|_| r.clicked())
                    .map(swarf_core::job::JobOutput::cut_area)
                    .filter(|b| !b.is_empty());
                if let Some(b) = area {
                    let g = spec.margin_mm;
                    let area = [b.min.x - g, b.min.y - g, b.max.x + g, b.max.y + g];
                    if let Err(e) = m.start_probe_grid(area, &spec) {
                        m.log(ConsoleKind::Error, e);
                    }
                }
            }
            match &app.session.job.height_map {
                Some(map) => {
                    ui.label(RichText::new(map.describe()).small());
                    if ui.button("Stop levelling (forget the map)").clicked() {
                        let mut job = app.session.job.clone();
                        job.height_map = None;
                        app.session.set_job(job);
                    }
                }
                None => {
                    ui.label(RichText::new("no height map: the cut is not levelled").small());
                }
            }
            ui.separator();
            let m = &mut app.machine;
            ui.horizontal(|ui| {
                let l = ui.label("Touch plate");
                rs.push(ui.add(egui::DragValue::new(&mut spec.plate_mm).range(0.0..=50.0).speed(0.01).suffix(" mm")).labelled_by(l.id));
                let can = m.can_command();
                if ui
                    .add_enabled(can, egui::Button::new("Touch off"))
                    .on_hover_text("lower the tool onto the plate with G38.2 and set work Z so the plate's top reads its thickness; start above the plate")
                    .clicked()
                    && let Err(e) = m.start_touch_off(&spec)
                {
                    m.log(ConsoleKind::Error, e);
                }
            });
            if spec != before {
                let mut job = app.session.job.clone();
                job.probe = Some(spec);
                // One undo step per field being edited.
                let key = rs.iter().find(|r| r.changed()).map(|r| r.id.value());
                app.session.set_job_coalescing(job, key);
            }
        });
}

fn connection_ui(ui: &mut Ui, app: &mut SwarfApp) {
    let m = &mut app.machine;
    let connected = m.connected();
    ui.add_enabled_ui(!connected, |ui| {
        ui.horizontal(|ui| {
            ui.radio_value(&mut m.kind, LinkKind::Grbl, "GRBL (serial)");
            ui.radio_value(&mut m.kind, LinkKind::LinuxCnc, "LinuxCNC");
        });
        match m.kind {
            LinkKind::Grbl => {
                ui.horizontal(|ui| {
                    let l = ui.label("Port");
                    egui::ComboBox::from_id_salt("machine_port")
                        .selected_text(if m.port.is_empty() {
                            "choose…"
                        } else {
                            &m.port
                        })
                        .show_ui(ui, |ui| {
                            if m.ports.is_empty() {
                                ui.label("no serial ports found");
                            }
                            for p in m.ports.clone() {
                                ui.selectable_value(&mut m.port, p.clone(), p);
                            }
                        })
                        .response
                        .labelled_by(l.id);
                    if ui
                        .small_button("Refresh")
                        .on_hover_text("list the ports again")
                        .clicked()
                    {
                        m.refresh_ports();
                    }
                });
                ui.horizontal(|ui| {
                    let l = ui.label("Path");
                    ui.add(egui::TextEdit::singleline(&mut m.port).desired_width(150.0))
                        .labelled_by(l.id)
                        .on_hover_text("a port not listed, e.g. /dev/ttyACM0");
                    let l = ui.label("Baud");
                    egui::ComboBox::from_id_salt("machine_baud")
                        .selected_text(m.baud.to_string())
                        .show_ui(ui, |ui| {
                            for b in [115_200u32, 250_000, 230_400, 57_600, 38_400, 19_200, 9_600] {
                                ui.selectable_value(&mut m.baud, b, b.to_string());
                            }
                        })
                        .response
                        .labelled_by(l.id);
                });
                ui.checkbox(&mut m.send_and_wait, "send-and-wait (one line at a time)")
                    .on_hover_text("slower; for controllers whose buffer cannot be counted on");
            }
            LinkKind::LinuxCnc => {
                ui.horizontal(|ui| {
                    let l = ui.label("Host");
                    ui.add(egui::TextEdit::singleline(&mut m.host).desired_width(150.0))
                        .labelled_by(l.id)
                        .on_hover_text("linuxcncrsh: HOST or HOST:PORT (5007)");
                    let l = ui.label("Password");
                    ui.add(egui::TextEdit::singleline(&mut m.password).desired_width(60.0))
                        .labelled_by(l.id);
                });
            }
        }
    });
    ui.horizontal(|ui| {
        if connected {
            if ui
                .add_enabled(!m.running(), egui::Button::new("Disconnect"))
                .on_disabled_hover_text("stop the program first")
                .clicked()
            {
                m.disconnect();
            }
        } else if ui.button("Connect").clicked() {
            match m.connect() {
                // Kept for the next run of the app.
                Ok(()) => {
                    if let Err(e) = app.session.store.save_machine_settings(&m.settings()) {
                        m.log(ConsoleKind::Error, e);
                    }
                }
                Err(e) => m.log(ConsoleKind::Error, e),
            }
        }
        let (text, colour) = match (connected, m.state()) {
            (false, _) => ("not connected".to_string(), WARN),
            (true, None) => ("connected, waiting for status".into(), WARN),
            (true, Some(MachineState::Alarm)) => ("Alarm: Home or Unlock".into(), ERR),
            (true, Some(s @ (MachineState::Hold | MachineState::Door))) => (s.name().into(), WARN),
            (true, Some(s)) => (s.name().into(), OK),
        };
        ui.label(RichText::new(text).color(colour).strong());
    });
    if let Some(i) = &m.info {
        ui.small(format!(
            "{} · RX buffer {} bytes",
            i.banner.clone().unwrap_or_else(|| "GRBL".into()),
            i.rx_bytes.map_or("not reported".into(), |n| n.to_string())
        ));
    }
}

fn dro_ui(ui: &mut Ui, app: &mut SwarfApp) {
    let m = &app.machine;
    let st = m.status.clone().unwrap_or_default();
    egui::Grid::new("machine_dro")
        .num_columns(4)
        .show(ui, |ui| {
            ui.label("");
            for a in ["X", "Y", "Z"] {
                ui.label(RichText::new(a).strong());
            }
            ui.end_row();
            for (name, p) in [("work", st.wpos), ("machine", st.mpos)] {
                ui.label(name);
                for i in 0..3 {
                    ui.label(
                        RichText::new(p.map_or("-".into(), |p| format!("{:10.4}", p[i])))
                            .monospace(),
                    );
                }
                ui.end_row();
            }
        });
    if let (Some(f), s) = (st.feed, st.spindle) {
        ui.small(format!(
            "feed {f:.0} mm/min{}",
            s.map_or(String::new(), |s| format!(" · spindle {s:.0} rpm"))
        ));
    }
}

fn run_ui(ui: &mut Ui, app: &mut SwarfApp) {
    let generation = app.session.output_gen;
    let m = &mut app.machine;
    let idle = m.idle();
    let running = m.running();
    let state = m.state();
    if let Some(p) = &m.pause {
        ui.label(RichText::new(format!("Paused: {p}")).color(WARN).strong());
        if m.held_at_stop() {
            ui.label(
                RichText::new(
                    "the machine waits idle: change the tool, jog, touch it off (Probe), then Resume",
                )
                .small(),
            );
        }
    }
    ui.horizontal_wrapped(|ui| {
        let start = ui
            .add_enabled(idle, egui::Button::new("Start"))
            .on_hover_text("run the job's program (checked as an export is)")
            .on_disabled_hover_text("connect; the machine must be Idle");
        if start.clicked()
            && let Err(e) = app.machine.prepare_start(&mut app.session)
        {
            app.machine.log(ConsoleKind::Error, e.clone());
            app.machine.outcome = Some((false, e));
        }
        let m = &mut app.machine;
        if ui
            .add_enabled(
                running && state == Some(MachineState::Run),
                egui::Button::new("Hold"),
            )
            .clicked()
        {
            m.hold();
        }
        if ui
            .add_enabled(
                m.connected() && (state == Some(MachineState::Hold) || m.held_at_stop()),
                egui::Button::new("Resume"),
            )
            .clicked()
        {
            m.resume();
        }
        if ui
            .add_enabled(
                m.connected(),
                egui::Button::new(RichText::new("Stop").color(ERR)),
            )
            .on_hover_text("stop now (GRBL: soft reset; LinuxCNC: abort)")
            .clicked()
        {
            m.stop();
        }
        if ui
            .add_enabled(m.connected() && !running, egui::Button::new("Unlock"))
            .on_hover_text("GRBL $X; LinuxCNC: release E-stop, machine on")
            .clicked()
        {
            m.unlock();
        }
        if ui
            .add_enabled(
                m.connected()
                    && !running
                    && matches!(state, Some(MachineState::Idle | MachineState::Alarm)),
                egui::Button::new("Home"),
            )
            .clicked()
        {
            m.home();
        }
    });
    let m = &mut app.machine;
    if let Some(pending) = m.pending.clone() {
        let sections: Vec<String> = pending
            .info
            .sections
            .iter()
            .map(|s| format!("op {}: {}", s.number, s.name))
            .collect();
        let mut confirm = false;
        let mut cancel = false;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.label(RichText::new("Start this program?").strong());
            ui.label(format!(
                "{} · {} lines",
                pending.info.title.clone().unwrap_or_default(),
                pending.info.send_lines
            ));
            ui.label(format!(
                "first tool {} · work offset {} · about {}",
                pending.tool,
                pending.work_offset,
                pending
                    .info
                    .total_seconds
                    .map_or("? s".into(), |s| format!("{s:.0} s"))
            ));
            if !sections.is_empty() {
                let mut from = m.from_section;
                egui::ComboBox::from_label("Start at")
                    .selected_text(from.map_or("the beginning".into(), |i| sections[i].clone()))
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut from, None, "the beginning");
                        for (i, s) in sections.iter().enumerate() {
                            ui.selectable_value(&mut from, Some(i), s);
                        }
                    });
                if from != m.from_section {
                    m.from_section = from;
                    if let Some(p) = &mut m.pending {
                        p.from_section = from;
                    }
                }
            }
            if app_kind_is_grbl(m.kind) {
                ui.checkbox(&mut m.check_first, "check in GRBL's check mode ($C) first")
                    .on_hover_text("the whole program is parsed by the controller without moving; it runs only if that passes");
            }
            ui.horizontal(|ui| {
                confirm = ui.button("Confirm start").clicked();
                cancel = ui.button("Cancel").clicked();
            });
        });
        if confirm {
            m.start_confirmed(generation);
        } else if cancel {
            m.pending = None;
        }
    }
    if running {
        ui.add(egui::ProgressBar::new(m.fraction()).text(m.progress_text().unwrap_or_default()));
    }
    if let Some((ok, text)) = &m.outcome {
        ui.label(RichText::new(text).color(if *ok { OK } else { ERR }));
    }
    if m.kind == LinkKind::Grbl {
        ui.horizontal(|ui| {
            ui.label("Rapid");
            for (name, rt) in [
                ("100%", Realtime::RapidOverrideFull),
                ("50%", Realtime::RapidOverrideHalf),
                ("25%", Realtime::RapidOverrideQuarter),
            ] {
                if ui
                    .add_enabled(m.connected(), egui::Button::new(name).small())
                    .clicked()
                {
                    m.realtime(rt);
                }
            }
            ui.label("Spindle");
            for (name, rt) in [
                ("-10%", Realtime::SpindleOverrideMinus10),
                ("100%", Realtime::SpindleOverrideReset),
                ("+10%", Realtime::SpindleOverridePlus10),
            ] {
                if ui
                    .add_enabled(m.connected(), egui::Button::new(name).small())
                    .clicked()
                {
                    m.realtime(rt);
                }
            }
        });
        if let Some([feed, rapid, spindle]) = m.status.as_ref().and_then(|s| s.overrides) {
            ui.small(format!(
                "overrides: feed {feed} % · rapid {rapid} % · spindle {spindle} %"
            ));
        }
    }
    ui.horizontal(|ui| {
        let l = ui.label("Feed override");
        let mut f = m.feed_override;
        let r = ui
            .add_enabled(
                m.connected(),
                egui::Slider::new(&mut f, 10..=200)
                    .suffix(" %")
                    .show_value(false),
            )
            .labelled_by(l.id);
        ui.label(format!("{f} %"));
        if r.drag_stopped() || (r.changed() && !r.dragged()) {
            m.set_feed_override(f);
        }
        m.feed_override = f;
    });
}

fn app_kind_is_grbl(k: LinkKind) -> bool {
    k == LinkKind::Grbl
}

fn jog_ui(ui: &mut Ui, app: &mut SwarfApp) {
    let m = &mut app.machine;
    let can = m.can_command() || (m.connected() && m.state() == Some(MachineState::Jog));
    ui.horizontal(|ui| {
        ui.label("Step");
        for (name, mm) in [
            ("1 µm", 0.001),
            ("10 µm", 0.01),
            ("0.1 mm", 0.1),
            ("1 mm", 1.0),
        ] {
            ui.selectable_value(&mut m.jog_step_mm, mm, name);
        }
    });
    ui.horizontal(|ui| {
        let l = ui.label("Jog feed");
        ui.add(
            egui::DragValue::new(&mut m.jog_feed)
                .range(1.0..=5000.0)
                .suffix(" mm/min"),
        )
        .labelled_by(l.id);
    });
    let rpm = app
        .session
        .job
        .tools
        .first()
        .map_or(10_000.0, |t| t.feeds.rpm);
    let m = &mut app.machine;
    ui.add_enabled_ui(can, |ui| {
        egui::Grid::new("machine_jog").show(ui, |ui| {
            for (axis, name) in ["X", "Y", "Z"].iter().enumerate() {
                for sign in [-1.0, 1.0] {
                    let label = format!("{name}{}", if sign < 0.0 { "-" } else { "+" });
                    let b = ui
                        .add(egui::Button::new(label).sense(egui::Sense::click_and_drag()))
                        .on_hover_text("click: one step; hold (GRBL): jog until released");
                    if b.clicked() {
                        m.jog_step(axis, sign);
                    } else if b.drag_started() {
                        m.jog_start(axis, sign);
                    }
                    if b.drag_stopped() {
                        m.jog_stop();
                    }
                }
                if ui.small_button(format!("{name}=0")).clicked() {
                    m.zero(name);
                }
                ui.end_row();
            }
        });
        ui.horizontal(|ui| {
            if ui
                .button("Zero XYZ")
                .on_hover_text("G10 L20 P0 X0 Y0 Z0")
                .clicked()
            {
                m.zero("XYZ");
            }
            if ui.button("Spindle on").clicked() {
                m.spindle(true, rpm);
            }
            if ui.button("off").clicked() {
                m.spindle(false, 0.0);
            }
            if ui.button("Coolant on").clicked() {
                m.coolant(true);
            }
            if ui.button("off").clicked() {
                m.coolant(false);
            }
        });
    });
    if m_jog_release(ui) {
        app.machine.jog_stop();
    }
}

/// A continuous jog ends when the pointer is released anywhere.
fn m_jog_release(ui: &Ui) -> bool {
    ui.input(|i| i.pointer.any_released())
}

fn console_ui(ui: &mut Ui, app: &mut SwarfApp) {
    let m = &mut app.machine;
    ui.horizontal(|ui| {
        let l = ui.label("MDI");
        let r = ui
            .add_enabled(
                m.connected() && (!m.running() || m.held_at_stop()),
                egui::TextEdit::singleline(&mut m.mdi).desired_width(200.0),
            )
            .labelled_by(l.id);
        if r.lost_focus()
            && ui.input(|i| i.key_pressed(egui::Key::Enter))
            && !m.mdi.trim().is_empty()
        {
            let line = std::mem::take(&mut m.mdi);
            m.command(&line);
        }
    });
    egui::ScrollArea::vertical()
        .max_height(180.0)
        .stick_to_bottom(true)
        .show(ui, |ui| {
            for (kind, text) in &m.console {
                let (prefix, colour) = match kind {
                    ConsoleKind::Sent => ("> ", ui.visuals().strong_text_color()),
                    ConsoleKind::Reply => ("< ", ui.visuals().text_color()),
                    ConsoleKind::Info => ("· ", ui.visuals().weak_text_color()),
                    ConsoleKind::Error => ("! ", ERR),
                };
                ui.label(
                    RichText::new(format!("{prefix}{text}"))
                        .monospace()
                        .color(colour),
                );
            }
        });
}
