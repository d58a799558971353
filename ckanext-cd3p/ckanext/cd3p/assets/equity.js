/* CD3P digital-equity and impact pages: the choropleth maps (Leaflet), the distribution chart and
 * the outcomes-by-quarter charts (Chart.js).
 *
 * Everything shown here is also in the page's tables, which need no JavaScript. The map draws the
 * GeoJSON that the page links to as a download: each feature's colour and class come from the
 * server, so the map and the legend agree. Labels are set as text, never as HTML. Every word comes
 * from the page (translated there); the axes' numbers are written for the page's language.
 */
(function () {
  'use strict';

  function getJSON(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/geo+json' } })
      .then(function (response) {
        if (!response.ok) { throw new Error(url + ': ' + response.status); }
        return response.json();
      });
  }

  function tooltip(properties) {
    var node = document.createElement('span');
    node.textContent = properties.name + ': ' + properties.label;
    return node;
  }

  function drawMap(el) {
    if (!window.L) { return; }
    var tiles = el.getAttribute('data-tiles');
    var map = L.map(el, { scrollWheelZoom: false, zoomSnap: 0.25, attributionControl: !!tiles });
    if (tiles) {
      L.tileLayer(tiles, { attribution: el.getAttribute('data-attribution') || '', maxZoom: 18 }).addTo(map);
    }
    map.setView([42.35, -83.1], 11);
    Promise.all([getJSON(el.getAttribute('data-outline')), getJSON(el.getAttribute('data-geojson'))])
      .then(function (data) {
        // The city's outline, under the places: neighbourhoods without a tract stay plain.
        L.geoJSON(data[0], {
          interactive: false,
          style: { className: 'cd3p-map-outline', color: '#404040', weight: 1.5, fillColor: '#ffffff', fillOpacity: 1 }
        }).addTo(map);
        var drawn = 0;
        var places = L.geoJSON(data[1], {
          filter: function (feature) { return !!feature.geometry; },
          style: function (feature) {
            var p = feature.properties;
            return {
              className: 'cd3p-map-place',
              color: '#404040',
              weight: 0.6,
              fillColor: p.color,
              fillOpacity: 0.9,
              dashArray: p.suppressed ? '3 3' : null
            };
          },
          onEachFeature: function (feature, layer) {
            drawn += 1;
            layer.bindTooltip(tooltip(feature.properties), { sticky: true, className: 'cd3p-tooltip' });
            if (feature.properties.url) {
              layer.on('click', function () { window.location.href = feature.properties.url; });
            }
          }
        }).addTo(map);
        if (places.getLayers().length) {
          map.fitBounds(places.getBounds(), { padding: [8, 8] });
        }
        el.setAttribute('data-places', String(drawn));
        el.classList.add('cd3p-map-ready');
      })
      .catch(function (error) {
        el.setAttribute('data-error', String(error));
        var note = document.createElement('p');
        note.className = 'cd3p-map-noscript';
        note.textContent = el.getAttribute('data-failed');
        el.appendChild(note);
      });
  }

  function drawChart(canvas) {
    if (!window.Chart) { return; }
    var spec = JSON.parse(canvas.getAttribute('data-cd3p-chart'));
    new window.Chart(canvas, {
      type: 'bar',
      data: {
        labels: spec.labels,
        datasets: [{
          label: spec.y,
          data: spec.counts,
          backgroundColor: '#2c6e9b',
          borderColor: '#1b4965',
          borderWidth: 1,
          barPercentage: 1.0,
          categoryPercentage: 1.0
        }]
      },
      options: {
        locale: document.documentElement.lang || 'en',
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { title: { display: true, text: spec.x, color: '#1a1a1a' }, ticks: { color: '#333' } },
          y: { beginAtZero: true, title: { display: true, text: spec.y, color: '#1a1a1a' }, ticks: { precision: 0, color: '#333' } }
        }
      }
    });
    canvas.setAttribute('data-drawn', 'true');
  }

  // Outcomes against targets by quarter (impact pages): bars for what was reached, a line for the
  // target; a hidden quarter (small count) is a gap, not a zero.
  function drawSeries(canvas) {
    if (!window.Chart) { return; }
    var spec = JSON.parse(canvas.getAttribute('data-cd3p-series'));
    var colors = ['#2c6e9b', '#b35806'];
    new window.Chart(canvas, {
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series, i) {
          return {
            type: i === 0 ? 'bar' : 'line',
            label: series.label,
            data: series.values,
            backgroundColor: colors[i % colors.length],
            borderColor: colors[i % colors.length],
            borderWidth: i === 0 ? 1 : 2,
            spanGaps: false
          };
        })
      },
      options: {
        locale: document.documentElement.lang || 'en',
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: true, labels: { color: '#1a1a1a' } } },
        scales: {
          x: { ticks: { color: '#333' } },
          y: { beginAtZero: true, title: { display: true, text: spec.y, color: '#1a1a1a' }, ticks: { precision: 0, color: '#333' } }
        }
      }
    });
    canvas.setAttribute('data-drawn', 'true');
  }

  document.querySelectorAll('[data-cd3p-map]').forEach(drawMap);
  document.querySelectorAll('[data-cd3p-chart]').forEach(drawChart);
  document.querySelectorAll('[data-cd3p-series]').forEach(drawSeries);
})();
