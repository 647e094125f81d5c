// The chip floorplan: every chip's tile mesh with its cores, custom-painted
// with QPainter (no QGraphicsItems: 16 chips x 256 cores are 4,096 cells).
// The board (chips, cells, routes of the selected layer) is rendered into a
// pixmap cache that is rebuilt only when the data, colouring, selection or
// view transform changes; hover only repaints the outline and the legend.
// Zoom with the wheel (around the cursor), pan by dragging, F / double-click
// fits. A click on a core selects its layer.
#pragma once

#include "floorplan/floorplan_data.h"

#include <QPixmap>
#include <QWidget>

#include <memory>

namespace stc::views {

class FloorplanWidget : public QWidget {
    Q_OBJECT
public:
    enum class ColorMode { Layer, Utilization, Energy, Activity };
    Q_ENUM(ColorMode)

    explicit FloorplanWidget(QWidget* parent = nullptr);

    void setData(std::shared_ptr<const FloorplanData> data);
    const FloorplanData* data() const { return data_.get(); }
    void setColorMode(ColorMode mode);
    // Measured per-core energy/spikes of a chip-simulator run of this
    // floorplan's package (null: the estimate colours energy and activity).
    // Ignored unless it has one value per core.
    void setMeasurement(std::shared_ptr<const FloorMeasurement> measurement);
    const FloorMeasurement* measurement() const { return measured() ? measurement_.get() : nullptr; }
    // "measured", "estimate", or "" (layer / utilization / nothing to show).
    QString valueSource() const;
    // The legend's title for the current mode (what the colours mean).
    QString legendTitle() const;
    ColorMode colorMode() const { return mode_; }
    void setSelectedLayer(int layer); // -1 clears
    int selectedLayer() const { return selectedLayer_; }

    // Mapped core under a widget position (-1: none, unused or dead cell).
    int coreAt(const QPoint& pos) const;
    // Physical cell under a widget position (-1: none).
    int cellAt(const QPoint& pos) const;
    // Widget rectangle of a mapped core (for tests and "scroll to").
    QRectF coreRect(int core) const;
    // The hover text of a mapped core (resources, utilization, energy).
    QString coreToolTip(int core) const;
    // The colour a mapped core is painted with in the current mode.
    QColor coreColor(int core) const;
    bool isCoreHighlighted(int core) const;
    int hoveredCore() const { return hovered_; }

    double zoom() const { return scale_; }
    void zoomBy(double factor, const QPointF& anchor);
    void fit();
    // Milliseconds of the last board (cache) render and of the last paintEvent.
    double lastRenderMs() const { return renderMs_; }
    double lastPaintMs() const { return paintMs_; }
    // Renders the board once into an image of `size` (benchmarks, tests).
    QImage renderImage(const QSize& size);

signals:
    void coreHovered(int core);
    void layerClicked(int layer);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    bool event(QEvent* event) override;

private:
    // Board geometry in board units (one core cell = 1 unit).
    struct Geometry {
        int subCols = 1, subRows = 1;      // cores inside a tile
        double tileW = 1, tileH = 1;       // with the gap
        double chipW = 1, chipH = 1;       // tiles + frame
        double titleH = 2.2, chipGap = 3;  // above each chip, between chips
        int chipCols = 1;
        QSizeF board;
    };
    void computeGeometry();
    QPointF chipOrigin(int chip) const;              // board units
    QRectF cellBoardRect(int chip, int tileX, int tileY, int core) const;
    QPointF tileCenterBoard(int globalX, int globalY, int z) const;
    QPointF toWidget(const QPointF& board) const { return board * scale_ + offset_; }
    QRectF toWidget(const QRectF& r) const;
    QColor valueColor(double t) const;
    double coreValue(int core) const; // 0..1 in the current continuous mode
    bool measured() const;
    double coreEnergy(int core) const;   // measured if there is a measurement, else the estimate
    double coreActivity(int core) const; // spikes out per step, likewise
    void updateMaxima();
    void invalidate();
    void updateColors();
    void renderBoard(QPainter& p, const QRect& target);
    void drawLegend(QPainter& p);
    void setHovered(int core);

    std::shared_ptr<const FloorplanData> data_;
    std::shared_ptr<const FloorMeasurement> measurement_;
    Geometry geo_;
    ColorMode mode_ = ColorMode::Layer;
    int selectedLayer_ = -1;
    std::vector<char> highlighted_; // per core
    double maxEnergy_ = 0, maxActivity_ = 0;
    double scale_ = 10;
    QPointF offset_;
    bool fitted_ = false;
    int hovered_ = -1;
    QPixmap cache_;
    std::vector<QColor> colors_; // per core, current mode and selection
    bool colorsValid_ = false;
    bool cacheValid_ = false;
    QPoint pressPos_, lastPos_;
    bool dragging_ = false;
    double renderMs_ = 0, paintMs_ = 0;
};

} // namespace stc::views
