#include "graph/graph_view.h"

#include "common/theme.h"
#include "document/document.h"
#include "jobs/job_runner.h"

#include <QElapsedTimer>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QToolButton>
#include <QVBoxLayout>
#include <QWheelEvent>

namespace stc::views::graph {

ZoomableView::ZoomableView(QWidget* parent) : QGraphicsView(parent)
{
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setViewportUpdateMode(QGraphicsView::SmartViewportUpdate);
    setFrameShape(QFrame::NoFrame);
    setOptimizationFlags(QGraphicsView::DontSavePainterState);
}

void ZoomableView::zoomBy(double factor)
{
    const double z = zoom() * factor;
    if (z < 0.05 || z > 6.0)
        return;
    scale(factor, factor);
    emit viewportChanged();
}

void ZoomableView::fit()
{
    if (!scene())
        return;
    fitInView(scene()->sceneRect(), Qt::KeepAspectRatio);
    // A tall graph would shrink to unreadable text: fit the width instead (at a
    // readable zoom) and start at the inputs.
    if (zoom() < 0.75) {
        const QRectF r = scene()->sceneRect();
        const double z = std::clamp(viewport()->width() / r.width(), 0.75, 1.0);
        resetTransform();
        scale(z, z);
        centerOn(r.center().x(), r.top() + viewport()->height() / (2 * z));
    }
    emit viewportChanged();
}

void ZoomableView::wheelEvent(QWheelEvent* event)
{
    if (event->modifiers() & Qt::ControlModifier || !(event->modifiers() & Qt::ShiftModifier)) {
        zoomBy(std::pow(1.0015, event->angleDelta().y()));
        event->accept();
        return;
    }
    QGraphicsView::wheelEvent(event);
}

void ZoomableView::scrollContentsBy(int dx, int dy)
{
    QGraphicsView::scrollContentsBy(dx, dy);
    emit viewportChanged();
}

void ZoomableView::resizeEvent(QResizeEvent* event)
{
    QGraphicsView::resizeEvent(event);
    emit viewportChanged();
}

void ZoomableView::drawBackground(QPainter* painter, const QRectF& rect)
{
    const bool dark = theme::isDark(palette());
    painter->fillRect(rect, dark ? QColor("#1f2226") : QColor("#f7f8fa"));
    // Dot grid, only when zoomed in enough for it to read as texture.
    if (zoom() < 0.5)
        return;
    painter->setPen(QPen(dark ? QColor("#2c3036") : QColor("#e1e4e8"), 1.5));
    const double step = 24;
    for (double x = std::floor(rect.left() / step) * step; x < rect.right(); x += step)
        for (double y = std::floor(rect.top() / step) * step; y < rect.bottom(); y += step)
            painter->drawPoint(QPointF(x, y));
}

Minimap::Minimap(ZoomableView* view, QWidget* parent) : QWidget(parent), view_(view)
{
    setFixedSize(180, 130);
    setCursor(Qt::PointingHandCursor);
    setToolTip("Minimap: click or drag to move the view");
    connect(view_, &ZoomableView::viewportChanged, this, qOverload<>(&QWidget::update));
}

void Minimap::invalidate()
{
    cache_ = QPixmap();
    update();
}

QRectF Minimap::mapping(QTransform* sceneToMini) const
{
    const QRectF scene = view_->scene() ? view_->scene()->sceneRect() : QRectF(0, 0, 1, 1);
    const double s = std::min((width() - 8) / scene.width(), (height() - 8) / scene.height());
    const QRectF target(0, 0, scene.width() * s, scene.height() * s);
    const QPointF offset((width() - target.width()) / 2, (height() - target.height()) / 2);
    *sceneToMini = QTransform::fromTranslate(-scene.left(), -scene.top()) * QTransform::fromScale(s, s) *
                   QTransform::fromTranslate(offset.x(), offset.y());
    return target.translated(offset);
}

void Minimap::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    const bool dark = theme::isDark(palette());
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(dark ? QColor("#4a505a") : QColor("#c5cbd4")));
    p.setBrush(dark ? QColor(30, 33, 37, 230) : QColor(255, 255, 255, 230));
    p.drawRoundedRect(rect().adjusted(0, 0, -1, -1), 5, 5);
    if (!view_->scene() || view_->scene()->items().isEmpty())
        return;
    QTransform t;
    mapping(&t);
    if (cache_.size() != size()) {
        cache_ = QPixmap(size());
        cache_.fill(Qt::transparent);
        QPainter cp(&cache_);
        // Node boxes only: QGraphicsScene::render() would paint every item
        // (text, edges, clusters) on the GUI thread, which took 100+ ms on the
        // first open of a large model.
        cp.setTransform(t);
        cp.setPen(Qt::NoPen);
        if (auto* scene = qobject_cast<GraphScene*>(view_->scene()))
            for (int id = 0;; ++id) {
                NodeItem* item = scene->itemForNode(id);
                if (!item)
                    break;
                QColor c = theme::categoryColor(QString::fromStdString(item->node().category), dark);
                c.setAlpha(200);
                cp.setBrush(c);
                cp.drawRect(item->sceneBoundingRect());
            }
    }
    p.drawPixmap(0, 0, cache_);
    const QRectF visible = t.mapRect(view_->mapToScene(view_->viewport()->rect()).boundingRect());
    p.setPen(QPen(palette().color(QPalette::Highlight), 1.5));
    p.setBrush(QColor(60, 120, 220, 40));
    p.drawRect(visible.intersected(QRectF(rect())));
}

void Minimap::centerAt(const QPoint& pos)
{
    QTransform t;
    mapping(&t);
    view_->centerOn(t.inverted().map(QPointF(pos)));
}

void Minimap::mousePressEvent(QMouseEvent* e) { centerAt(e->pos()); }
void Minimap::mouseMoveEvent(QMouseEvent* e)
{
    if (e->buttons() & Qt::LeftButton)
        centerAt(e->pos());
}

GraphView::GraphView(Document* document, JobRunner* jobs, QWidget* parent)
    : QWidget(parent), doc_(document), jobs_(jobs)
{
    setObjectName("graphView");
    scene_ = new GraphScene(this);
    view_ = new ZoomableView(this);
    view_->setScene(scene_);

    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(6, 4, 6, 4);
    bar->setSpacing(4);
    search_ = new QLineEdit(this);
    search_->setPlaceholderText("Search ops, modules, shapes…  (Enter: next match)");
    search_->setClearButtonEnabled(true);
    search_->setMaximumWidth(340);
    auto button = [&](const QString& icon, const QString& tip, auto slot) {
        auto* b = new QToolButton(this);
        b->setIcon(QIcon(":/icons/" + icon + ".svg"));
        b->setToolTip(tip);
        b->setAutoRaise(true);
        connect(b, &QToolButton::clicked, this, slot);
        bar->addWidget(b);
    };
    bar->addWidget(search_);
    button("fit", "Fit to view (F)", &GraphView::fit);
    button("zoom-in", "Zoom in (Ctrl++)", &GraphView::zoomIn);
    button("zoom-out", "Zoom out (Ctrl+-)", &GraphView::zoomOut);
    button("collapse", "Collapse all groups", &GraphView::collapseAll);
    button("expand", "Expand all groups", &GraphView::expandAll);
    info_ = new QLabel(this);
    info_->setEnabled(false);
    bar->addStretch(1);
    bar->addWidget(info_);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addLayout(bar);
    layout->addWidget(view_, 1);

    minimap_ = new Minimap(view_, view_);
    connect(view_, &ZoomableView::viewportChanged, this, [this] {
        minimap_->move(view_->width() - minimap_->width() - 12 - view_->verticalScrollBar()->width() *
                                                                      view_->verticalScrollBar()->isVisible(),
                       view_->height() - minimap_->height() - 12 -
                           view_->horizontalScrollBar()->height() * view_->horizontalScrollBar()->isVisible());
    });

    connect(search_, &QLineEdit::textChanged, this, [this] { applySearch(false); });
    connect(search_, &QLineEdit::returnPressed, this, [this] { applySearch(true); });
    connect(scene_, &GraphScene::opSelected, doc_, &Document::selectOp);
    connect(scene_, &GraphScene::groupToggleRequested, this, &GraphView::toggleGroup);
    connect(doc_, &Document::loaded, this, [this] {
        collapsedInitialized_ = false;
        fitted_ = false;
        activity_.clear();
    });
    connect(doc_, &Document::moduleChanged, this, &GraphView::onDocumentChanged);
    connect(doc_, &Document::diagnosticsChanged, this, [this] { scene_->setErrorOps(doc_->opsWithErrors()); });
    connect(doc_, &Document::selectionChanged, this, [this](int op) {
        scene_->selectOp(op);
        if (NodeItem* item = scene_->itemForOp(op))
            view_->ensureVisible(item, 60, 60);
    });
}

void GraphView::onDocumentChanged()
{
    if (!doc_->hasModule()) {
        scene_->setGraph({}, {});
        minimap_->invalidate();
        info_->clear();
        return;
    }
    if (!collapsedInitialized_) {
        collapsed_ = defaultCollapsed(*doc_->module());
        collapsedInitialized_ = true;
    }
    relayout();
}

void GraphView::relayout()
{
    if (!doc_->hasModule())
        return;
    ModulePtr module = doc_->module();
    BuildOptions options;
    options.collapsed = collapsed_;
    pending_ = true;
    info_->setText("laying out…");
    struct Result {
        GraphData data;
        Layout layout;
        double seconds = 0;
    };
    jobs_->start<Result>(
        "layout", "Graph layout",
        [module, options](JobContext& ctx) {
            QElapsedTimer timer;
            timer.start();
            Result r;
            r.data = buildGraph(*module, options);
            ctx.progress(0.2, "graphviz dot");
            r.layout = makeGraphvizLayout()->compute(r.data);
            if (!r.layout.error.empty() || r.layout.nodes.size() != r.data.nodes.size()) {
                const std::string why = r.layout.error;
                r.layout = makeLayeredLayout()->compute(r.data);
                r.layout.error = why.empty() ? "graphviz returned an incomplete layout" : why;
            }
            r.seconds = double(timer.nsecsElapsed()) / 1e9;
            return r;
        },
        [this](Result r) {
            pending_ = false;
            engine_ = QString::fromStdString(r.layout.engine);
            layoutSeconds_ = r.seconds;
            const QPointF center = view_->mapToScene(view_->viewport()->rect().center());
            const int selected = doc_->selectedOp();
            const size_t nodes = r.data.nodes.size();
            scene_->setGraph(std::move(r.data), r.layout);
            scene_->setErrorOps(doc_->opsWithErrors());
            scene_->setActivity(activity_);
            scene_->selectOp(selected);
            if (!search_->text().isEmpty())
                applySearch(false);
            if (!fitted_) {
                view_->fit();
                fitted_ = true;
            } else {
                view_->centerOn(center);
            }
            minimap_->invalidate();
            emit view_->viewportChanged();
            info_->setText(QString("%1 nodes · %2 · %3 ms")
                               .arg(nodes)
                               .arg(engine_)
                               .arg(int(layoutSeconds_ * 1000)));
            emit layoutFinished();
        });
}

void GraphView::fit() { view_->fit(); }
void GraphView::zoomIn() { view_->zoomBy(1.25); }
void GraphView::zoomOut() { view_->zoomBy(0.8); }

void GraphView::focusSearch()
{
    search_->setFocus();
    search_->selectAll();
}

void GraphView::collapseAll()
{
    if (!doc_->hasModule())
        return;
    // Collapse the outermost groups (their children fold with them).
    collapsed_.clear();
    const GraphData full = buildGraph(*doc_->module(), {});
    for (const std::string& g : full.collapsible)
        if (g.find('.') == std::string::npos || defaultCollapsed(*doc_->module(), 0).count(g))
            collapsed_.insert(g);
    relayout();
}

void GraphView::expandAll()
{
    collapsed_.clear();
    relayout();
}

void GraphView::toggleGroup(const QString& path)
{
    const std::string p = path.toStdString();
    if (!collapsed_.erase(p))
        collapsed_.insert(p);
    relayout();
}

void GraphView::setActivity(const std::map<int, double>& firingRateByOp)
{
    activity_ = firingRateByOp;
    scene_->setActivity(activity_);
}

void GraphView::applySearch(bool next)
{
    if (!next) {
        matches_ = scene_->search(search_->text());
        matchIndex_ = -1;
    }
    if (matches_.empty()) {
        if (!search_->text().isEmpty())
            info_->setText("no match");
        return;
    }
    matchIndex_ = (matchIndex_ + 1) % int(matches_.size());
    if (NodeItem* item = scene_->itemForNode(matches_[size_t(matchIndex_)])) {
        view_->centerOn(item);
        if (next)
            doc_->selectOp(item->node().opIndex >= 0 ? item->node().opIndex : item->node().opIndices.front());
    }
    info_->setText(QString("match %1 of %2").arg(matchIndex_ + 1).arg(matches_.size()));
}

} // namespace stc::views::graph
