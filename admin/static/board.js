/* The dispatcher board's script: draws the map (Leaflet, served from this origin) and listens to
   the live feed (server-sent events with a one-minute feed token). The page works without it:
   every list here is also rendered by the server. */
(function () {
  "use strict";

  var words = JSON.parse((document.getElementById("board-words") || {}).textContent || "{}");
  var data = JSON.parse((document.getElementById("board-map-data") || {}).textContent || "{}");
  var live = document.getElementById("live");
  var names = {};
  (data.routes || []).forEach(function (r) { names[r.worker_id] = r.name; });

  function say(key, params) {
    var text = words[key] || key;
    Object.keys(params || {}).forEach(function (k) { text = text.split("%(" + k + ")s").join(String(params[k])); });
    return text;
  }
  function who(id) { return names[id] || ("#" + id); }

  // --- the map -------------------------------------------------------------------------------
  var map = null;
  var positionLayer = null;
  var colours = {};

  function drawMap() {
    var el = document.getElementById("board-map");
    if (!el || typeof L === "undefined") { return; }
    el.textContent = "";
    map = L.map(el, { zoomControl: true, attributionControl: !!data.tiles, keyboard: true });
    if (data.tiles) {
      L.tileLayer(data.tiles, { maxZoom: 19, attribution: "" }).addTo(map);
    } else {
      el.setAttribute("data-plain", "true");
      var note = L.control({ position: "bottomleft" });
      note.onAdd = function () {
        var p = L.DomUtil.create("p", "muted map-note");
        p.textContent = el.getAttribute("data-no-tiles");
        return p;
      };
      note.addTo(map);
    }
    var outline = L.geoJSON(data.districts).getBounds();  // a view first: permanent labels need one
    if (outline.isValid()) { map.fitBounds(outline, { padding: [10, 10] }); } else { map.setView([39.12, 117.2], 12); }
    L.geoJSON(data.districts, {
      style: function () {
        return { color: "#4a5361", weight: 2, fillColor: "#ffffff", fillOpacity: 0.55, className: "district-shape" };
      },
      onEachFeature: function (feature, layer) {
        var zh = document.documentElement.lang.indexOf("zh") === 0;
        layer.bindTooltip(zh ? feature.properties.name_zh : feature.properties.name,
                          { permanent: true, direction: "center", className: "district-label" });
      }
    }).addTo(map);
    (data.routes || []).forEach(function (route) {
      colours[route.worker_id] = route.colour;
      if (route.points.length > 1) {
        L.polyline(route.points, { color: route.colour, weight: 4, opacity: 0.9, className: "route-line" })
          .bindTooltip(route.name).addTo(map);
      }
      route.stops.forEach(function (stop) {
        L.circleMarker(stop.point, { radius: 6, color: "#ffffff", weight: 2, fillColor: route.colour, fillOpacity: 1,
                                     className: "stop-marker" })
          .bindTooltip(route.name + " · #" + stop.order_id).addTo(map);
      });
    });
    (data.unassigned || []).forEach(function (item) {
      L.circleMarker(item.point, { radius: 8, color: "#a50e0e", weight: 3, dashArray: "3 3", fillColor: "#ffffff",
                                   fillOpacity: 1, className: "unassigned-marker" })
        .bindTooltip(el.getAttribute("data-unassigned-label") + " #" + item.order_id + " · " + item.reason).addTo(map);
    });
    var points = [];
    (data.routes || []).forEach(function (r) { points = points.concat(r.points); });
    (data.unassigned || []).forEach(function (u) { points.push(u.point); });
    if (points.length) { map.fitBounds(L.latLngBounds(points).pad(0.3), { maxZoom: 14 }); }
    positionLayer = L.layerGroup().addTo(map);
    drawPositions(data.positions || []);
  }

  function drawPositions(positions) {
    if (!positionLayer) { return; }
    positionLayer.clearLayers();
    var label = document.getElementById("board-map").getAttribute("data-position-label");
    positions.forEach(function (p) {
      L.circleMarker(p.point, { radius: 9, color: "#1a1d21", weight: 3, fillColor: colours[p.worker_id] || "#0b57d0",
                                fillOpacity: 1, className: "position-marker" })
        .bindTooltip(who(p.worker_id) + " · " + label + " " + p.at.slice(11, 16)).addTo(positionLayer);
    });
  }

  function refreshPositions() {
    if (!live) { return; }
    fetch(live.getAttribute("data-positions-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { positions: [] }; })
      .then(function (j) { drawPositions(j.positions); })
      .catch(function () {});
  }

  // --- the live feed -------------------------------------------------------------------------
  var lastId = null;
  var source = null;

  function status(on) {
    var badge = document.getElementById("live-status");
    if (!badge) { return; }
    badge.setAttribute("data-state", on ? "on" : "off");
    badge.textContent = say(on ? "live.on" : "live.off");
  }

  function add(list, text, cls, attrs) {
    var li = document.createElement("li");
    li.className = cls;
    li.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { li.setAttribute(k, attrs[k]); });
    list.insertBefore(li, list.firstChild);
    return li;
  }

  function handle(event) {
    var d = event.data || {};
    var list = document.getElementById("live-events");
    var at = (event.at || "").slice(11, 16);
    switch (event.kind) {
      case "sos": {
        var text = at + " " + say("sos.live", { worker: who(d.worker_id), presses: d.presses });
        add(list, text, "live-sos", { "data-live-sos": d.alarm_id });
        var sos = document.getElementById("sos-list");
        if (sos && !sos.querySelector('[data-alarm="' + d.alarm_id + '"]')) {
          add(sos, text, "", { "data-alarm": d.alarm_id });
        }
        var banner = document.querySelector("[data-sos]");
        if (banner) { banner.classList.remove("sos-empty"); banner.classList.add("sos-banner"); }
        break;
      }
      case "alarm_acknowledged": {
        add(list, at + " " + say("live.acknowledged", { id: d.alarm_id }), "live-info");
        break;
      }
      case "worker_late":
        add(list, at + " " + say("live.late", { worker: who(d.worker_id), minutes: d.minutes_behind, order: d.order_id }),
            "live-late", { "data-late": d.worker_id });
        break;
      case "evv_exception":
        add(list, at + " " + say("live.evv", { id: d.exception_id, kind: say("evv." + d.kind) }), "live-evv",
            { "data-live-exception": d.exception_id });
        break;
      case "plan_version":
        add(list, at + " " + say("live.plan", { revision: d.revision, district: say("district." + d.district) }),
            "live-plan");
        break;
      case "stop_failed":
        add(list, at + " " + say("live.failed", { order: d.order_id }), "live-info");
        break;
      case "position_flagged":
        add(list, at + " " + say("live.flagged", { worker: who(d.worker_id) }), "live-info");
        refreshPositions();
        break;
      default:
        break;
    }
  }

  function connect() {
    if (!live || typeof EventSource === "undefined") { return; }
    var body = new URLSearchParams();
    body.set("csrf_token", live.getAttribute("data-csrf"));
    fetch(live.getAttribute("data-feed-token-url"), { method: "POST", credentials: "same-origin", body: body })
      .then(function (r) { if (!r.ok) { throw new Error("token " + r.status); } return r.json(); })
      .then(function (j) {
        var url = live.getAttribute("data-feed-url") + "?token=" + encodeURIComponent(j.token) +
                  (lastId ? "&last_event_id=" + encodeURIComponent(lastId) : "");
        source = new EventSource(url);
        source.onopen = function () { status(true); live.setAttribute("data-connected", "true"); };
        source.onmessage = function (m) {
          if (m.lastEventId) { lastId = m.lastEventId; }
          try { handle(JSON.parse(m.data)); } catch (e) { /* not an event of ours */ }
        };
        source.onerror = function () {  // closed by the server after a while, or the token ran out
          source.close();
          status(false);
          window.setTimeout(connect, 2000);
        };
      })
      .catch(function () { status(false); window.setTimeout(connect, 10000); });
  }

  drawMap();
  connect();
  window.setInterval(refreshPositions, 30000);
})();
