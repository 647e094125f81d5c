#include "sim/simulator_panel.h"

#include "common/not_yet_panel.h"
#include "common/theme.h"
#include "data/fashion_mnist.h"
#include "jobs/job_runner.h"
#include "sim/probability_bars.h"
#include "sim/spike_raster.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QScatterSeries>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedLayout>
#include <QStandardItemModel>
#include <QTimer>
#include <QToolButton>
#include <QValueAxis>
#include <QVBoxLayout>

#include <cmath>

namespace stc::views {

namespace {

QToolButton* toolButton(QWidget* parent, const QString& icon, const QString& text, const QString& tip)
{
    auto* b = new QToolButton(parent);
    b->setIcon(QIcon(":/icons/" + icon + ".svg"));
    b->setText(text);
    b->setToolTip(tip);
    b->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    b->setAutoRaise(true);
    return b;
}

void styleChart(QChart* chart, const QString& title)
{
    const bool dark = theme::isDark();
    chart->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    chart->setBackgroundBrush(QApplication::palette().color(QPalette::Base));
    chart->setBackgroundRoundness(0);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setTitle(title);
    QFont f = QApplication::font();
    f.setPointSizeF(f.pointSizeF() * 0.9);
    f.setBold(true);
    chart->setTitleFont(f);
    chart->setTitleBrush(QApplication::palette().color(QPalette::Text));
    chart->legend()->hide();
    chart->setAnimationOptions(QChart::NoAnimation);
}

void styleAxis(QAbstractAxis* axis)
{
    QFont f = QApplication::font();
    f.setPointSizeF(f.pointSizeF() * 0.8);
    axis->setLabelsFont(f);
    axis->setTitleFont(f);
    axis->setLabelsBrush(QApplication::palette().color(QPalette::Text));
    axis->setTitleBrush(QApplication::palette().color(QPalette::PlaceholderText));
    axis->setGridLineColor(QApplication::palette().color(QPalette::Midlight));
}

} // namespace

SimulatorPanel::SimulatorPanel(Document* document, JobRunner* jobs, QWidget* parent)
    : QWidget(parent), doc_(document), jobs_(jobs)
{
    setObjectName("simulator");
    content_ = new QWidget(this);

    // Left: input picker.
    image_ = new QLabel(content_);
    image_->setFixedSize(140, 140);
    image_->setAlignment(Qt::AlignCenter);
    image_->setFrameShape(QFrame::StyledPanel);
    imageCaption_ = new QLabel("Fashion-MNIST test set", content_);
    imageCaption_->setWordWrap(true);
    imageCaption_->setAlignment(Qt::AlignCenter);
    index_ = new QSpinBox(content_);
    index_->setRange(0, 9999);
    index_->setPrefix("image #");
    index_->setToolTip("Index into the Fashion-MNIST test set (10 000 images)");
    auto* left = new QVBoxLayout;
    left->addWidget(image_, 0, Qt::AlignHCenter);
    left->addWidget(index_);
    left->addWidget(imageCaption_);
    left->addStretch(1);

    // Controls.
    runButton_ = toolButton(content_, "run", "Run", "Simulate this image and play it back (F5)");
    pauseButton_ = toolButton(content_, "pause", "Pause", "Pause playback (Shift+F5)");
    stepButton_ = toolButton(content_, "step", "Step", "Advance one time step (F10)");
    resetButton_ = toolButton(content_, "reset", "Reset", "Clear the run (Ctrl+Shift+F5)");
    scrubber_ = new QSlider(Qt::Horizontal, content_);
    scrubber_->setToolTip("Time step shown (later steps are dimmed)");
    stepLabel_ = new QLabel(content_);
    stepLabel_->setMinimumWidth(140);
    engineBox_ = new QComboBox(content_);
    engineBox_->setObjectName("simulator.engine");
    engineBox_->addItem("Chip simulator (bit-accurate)", int(Engine::ChipSimulator));
    engineBox_->addItem("f32 reference interpreter", int(Engine::Reference));
    engineBox_->setCurrentIndex(1);
    engineLabel_ = new QLabel(content_);
    engineLabel_->setObjectName("simulator.engineLabel");
    engineLabel_->setEnabled(false);
    auto* controls = new QHBoxLayout;
    controls->setSpacing(2);
    controls->addWidget(engineBox_);
    controls->addSpacing(6);
    for (auto* b : {runButton_, pauseButton_, stepButton_, resetButton_})
        controls->addWidget(b);
    controls->addSpacing(8);
    controls->addWidget(scrubber_, 1);
    controls->addWidget(stepLabel_);
    controls->addSpacing(8);
    controls->addWidget(engineLabel_);

    raster_ = new sim::SpikeRaster(content_);
    status_ = new QLabel(content_);
    status_->setWordWrap(true);
    auto* centre = new QVBoxLayout;
    centre->addLayout(controls);
    centre->addWidget(raster_, 1);
    centre->addWidget(status_);

    prediction_ = new sim::ProbabilityBars(content_);
    prediction_->setMinimumWidth(260);
    neuronTrace_ = new QChartView(content_);
    neuronTrace_->setRenderHint(QPainter::Antialiasing);
    auto* right = new QSplitter(Qt::Vertical, content_);
    right->addWidget(prediction_);
    right->addWidget(neuronTrace_);
    neuronTrace_->setMinimumHeight(130);
    right->setStretchFactor(0, 1);
    right->setStretchFactor(1, 1);

    auto* row = new QHBoxLayout(content_);
    row->setContentsMargins(6, 6, 6, 6);
    row->addLayout(left);
    row->addLayout(centre, 3);
    row->addWidget(right, 2);

    notYet_ = new NotYetPanel("Simulator", "Open a model or a deployment package first (File › Open, or drop a .pt/.sir/.nir file or a package directory here).", this);
    auto* stack = new QStackedLayout(this);
    stack->addWidget(notYet_);
    stack->addWidget(content_);

    playback_ = new QTimer(this);
    playback_->setInterval(300);
    connect(playback_, &QTimer::timeout, this, &SimulatorPanel::advance);
    connect(runButton_, &QToolButton::clicked, this, &SimulatorPanel::run);
    connect(pauseButton_, &QToolButton::clicked, this, &SimulatorPanel::pause);
    connect(stepButton_, &QToolButton::clicked, this, &SimulatorPanel::step);
    connect(resetButton_, &QToolButton::clicked, this, &SimulatorPanel::reset);
    connect(scrubber_, &QSlider::valueChanged, this, &SimulatorPanel::setCurrentStep);
    connect(index_, qOverload<int>(&QSpinBox::valueChanged), this, [this] {
        showImage();
        updateControls();
    });
    connect(engineBox_, &QComboBox::activated, this, [this] {
        engineChosen_ = true;
        updateControls();
    });
    connect(engineBox_, &QComboBox::currentIndexChanged, this, [this] { updateControls(); });
    connect(raster_, &sim::SpikeRaster::neuronSelected, this, &SimulatorPanel::showNeuronTrace);
    connect(doc_, &Document::moduleChanged, this, &SimulatorPanel::updateAvailability);
    stack->setCurrentIndex(0);
    showPrediction();
    showNeuronTrace(-1, -1);
    updateEngineBox();
    updateControls();
}

SimulatorPanel::~SimulatorPanel() = default;

bool SimulatorPanel::available() const
{
    return doc_->hasModule() || package_ != nullptr;
}

SimulatorPanel::Engine SimulatorPanel::engine() const { return Engine(engineBox_->currentData().toInt()); }

void SimulatorPanel::setEngine(Engine e)
{
    engineChosen_ = true;
    engineBox_->setCurrentIndex(engineBox_->findData(int(e)));
    updateEngineBox();
}

QString SimulatorPanel::engineText() const
{
    if (engine() == Engine::ChipSimulator && package_)
        return QString("bit-accurate chip simulator (core/sim) on %1%2")
            .arg(package_->chipId, package_->projectedChip ? ", projected" : "");
    return "f32 reference interpreter (core/interp)";
}

void SimulatorPanel::setPackage(std::shared_ptr<const ChipPackage> package)
{
    package_ = std::move(package);
    updateEngineBox();
    updateAvailability();
}

void SimulatorPanel::updateAvailability()
{
    if (auto* stack = qobject_cast<QStackedLayout*>(layout()))
        stack->setCurrentIndex(available() ? 1 : 0);
    if (available() && !images_ && !datasetLoading_)
        loadDataset();
    showImage(); // an image or the random input vector, whichever the open model takes
    updateControls();
}

void SimulatorPanel::updateEngineBox()
{
    auto* model = qobject_cast<QStandardItemModel*>(engineBox_->model());
    QStandardItem* chip = model->item(engineBox_->findData(int(Engine::ChipSimulator)));
    chip->setEnabled(package_ != nullptr);
    chip->setText(package_ ? QString("Chip simulator (bit-accurate, %1)").arg(package_->chipId)
                           : QString("Chip simulator (bit-accurate): compile first"));
    chip->setToolTip(package_ ? QString("Runs the deployment package of the last mapping (%1 cores on %2) in core/sim: "
                                        "integer neuron state, event-driven synapses, the energy ledger")
                                    .arg(package_->cores)
                                    .arg(package_->chipName)
                              : QString("Needs a deployment package: compile (Ctrl+R); the Floorplan maps the result "
                                        "and builds the package"));
    const bool chipShown = engine() == Engine::ChipSimulator;
    if (!package_ && chipShown)
        engineBox_->setCurrentIndex(engineBox_->findData(int(Engine::Reference)));
    else if (package_ && !engineChosen_ && !chipShown)
        engineBox_->setCurrentIndex(engineBox_->findData(int(Engine::ChipSimulator)));
    engineBox_->setToolTip(engineText());
}

bool SimulatorPanel::traceIsCurrent() const
{
    return trace_ && traceModule_ == doc_->module() && traceImage_ == imageIndex() && traceEngine_ == engine() &&
           (traceEngine_ != Engine::ChipSimulator || tracePackage_ == package_);
}

int SimulatorPanel::imageIndex() const { return index_->value(); }

int SimulatorPanel::imageLabel() const
{
    const int i = imageIndex();
    return images_ && !feedsRandomInput() && i < int(images_->labels.size()) ? int(images_->labels[size_t(i)]) : -1;
}

int64_t SimulatorPanel::inputSize() const
{
    if (ModulePtr m = doc_->module()) {
        const auto inputs = m->inputs();
        return inputs.size() == 1 ? m->typeOf(inputs[0]).numElements() : -1;
    }
    return package_ && package_->program ? package_->program->inputSize() : -1;
}

bool SimulatorPanel::feedsRandomInput() const
{
    const int64_t n = inputSize();
    return n > 0 && n != kImagePixels;
}

QString SimulatorPanel::inputText() const
{
    if (feedsRandomInput())
        return QString("random U[0,1) input #%1 (%2 values)").arg(imageIndex()).arg(inputSize());
    return QString("Fashion-MNIST test image #%1").arg(imageIndex());
}

QString SimulatorPanel::className(int k) const
{
    const auto& names = data::fashionMnistClassNames();
    if (feedsRandomInput() || k < 0 || k >= int(names.size()))
        return QString("class %1").arg(k);
    return QString::fromStdString(names[size_t(k)]);
}

void SimulatorPanel::setPlaybackIntervalMs(int ms) { playback_->setInterval(ms); }

void SimulatorPanel::setImageIndex(int index) { index_->setValue(index); }

void SimulatorPanel::loadDataset()
{
    if (datasetLoading_ || images_)
        return;
    datasetLoading_ = true;
    imageCaption_->setText("loading Fashion-MNIST…");
    struct Loaded {
        std::shared_ptr<const data::ImageSet> images;
        QString error;
    };
    jobs_->start<Loaded>(
        "dataset", "Loading Fashion-MNIST",
        [](JobContext&) {
            auto r = data::loadFashionMnist(data::Split::Test);
            Loaded out;
            if (r.ok())
                out.images = std::make_shared<const data::ImageSet>(std::move(r.value));
            else
                out.error = QString::fromStdString(r.error);
            return out;
        },
        [this](Loaded r) {
            datasetLoading_ = false;
            images_ = r.images;
            datasetError_ = r.error;
            if (images_)
                index_->setRange(0, int(images_->count) - 1);
            showImage();
            updateControls();
            emit datasetReady(images_ != nullptr);
            if (runAfterLoad_) {
                runAfterLoad_ = false;
                if (images_)
                    simulate(true);
                else
                    emit runFinished(false);
            }
        });
}

void SimulatorPanel::showImage()
{
    const int i = imageIndex();
    if (!feedsRandomInput() && !images_) {
        image_->setText(datasetError_.isEmpty() ? "…" : "no data");
        imageCaption_->setText(datasetError_.isEmpty() ? "Fashion-MNIST test set" : datasetError_);
        return;
    }
    if (feedsRandomInput()) {
        // The vector the run will feed, as grey cells in rows of ceil(sqrt(n)); the
        // cells after the last value stay transparent (they are not zeros).
        const std::vector<float> x = sim::uniformInput(inputSize(), uint32_t(i));
        const int w = int(std::ceil(std::sqrt(double(x.size())))), h = int((int64_t(x.size()) + w - 1) / w);
        QImage img(w, h, QImage::Format_ARGB32);
        img.fill(Qt::transparent);
        for (size_t k = 0; k < x.size(); ++k) {
            const int g = int(std::clamp(x[k], 0.0f, 1.0f) * 255.0f);
            img.setPixel(int(k) % w, int(k) / w, qRgb(g, g, g));
        }
        image_->setPixmap(QPixmap::fromImage(
            img.scaled(image_->size() - QSize(4, 4), Qt::KeepAspectRatio, Qt::FastTransformation)));
        index_->setPrefix("input #");
        index_->setToolTip("Seed of the random U[0,1) input the model is fed (it does not take a 28×28 image)");
        imageCaption_->setText(QString("random U[0,1) input, seed %1: the model takes %2 values, not a 28×28 "
                                       "Fashion-MNIST image")
                                   .arg(i)
                                   .arg(inputSize()));
        return;
    }
    index_->setPrefix("image #");
    index_->setToolTip("Index into the Fashion-MNIST test set (10 000 images)");
    const auto px = images_->image(i);
    QImage img(int(images_->width), int(images_->height), QImage::Format_Grayscale8);
    for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x)
            img.scanLine(y)[x] = uchar(std::clamp(px[size_t(y * img.width() + x)], 0.0f, 1.0f) * 255.0f);
    image_->setPixmap(QPixmap::fromImage(img.scaled(image_->size() - QSize(4, 4), Qt::KeepAspectRatio, Qt::FastTransformation)));
    const auto& names = data::fashionMnistClassNames();
    const int label = imageLabel();
    imageCaption_->setText(QString("label: <b>%1</b>").arg(label >= 0 ? QString::fromStdString(names[size_t(label)]) : "?"));
}

void SimulatorPanel::run()
{
    if (!available())
        return;
    if (traceIsCurrent()) {
        if (step_ >= int(trace_->timesteps) - 1)
            setCurrentStep(0);
        playing_ = true;
        playback_->start();
        updateControls();
        return;
    }
    simulate(true);
}

void SimulatorPanel::simulate(bool thenPlay)
{
    if (!images_ && !feedsRandomInput()) { // a random input needs no dataset
        runAfterLoad_ = true;
        loadDataset();
        return;
    }
    ModulePtr module = doc_->module();
    if (!module && engine() != Engine::ChipSimulator) {
        status_->setText("The f32 reference interpreter needs the model: this package does not record its source "
                         "model. Choose the chip simulator.");
        emit runFinished(false);
        return;
    }
    const int index = imageIndex();
    std::vector<float> image;
    if (feedsRandomInput()) {
        image = sim::uniformInput(inputSize(), uint32_t(index));
    } else {
        const auto px = images_->image(index);
        image.assign(px.begin(), px.end());
    }
    status_->setText("simulating…");
    const QString sample = inputText();
    if (engine() == Engine::ChipSimulator && package_) {
        auto package = package_;
        jobs_->start<ChipRunOutcome>(
            "simulate", "Chip simulation of " + sample,
            [package, module, image, sample](JobContext& ctx) {
                return runChipSimulation(*package, module.get(), image, sample, ctx.cancelFlag(),
                                         [&ctx](double f, const std::string& m) { ctx.progress(f, m); });
            },
            [this, package, module, index, sample, thenPlay](ChipRunOutcome r) {
                tracePackage_ = package;
                ledgerText_ = QString::fromStdString(r.ledgerText);
                const bool ok = r.trace.ok();
                if (ok) {
                    emit measuredEnergyChanged(r.energy);
                    emit measuredCoresChanged(r.cores);
                    emit bottlenecksChanged(r.bottlenecks,
                                            QString("%1 on %2%3")
                                                .arg(sample, package->chipId,
                                                     package->projectedChip ? " (PROJECTED chip)" : ""));
                }
                accept(std::move(r.trace), module, index, thenPlay, Engine::ChipSimulator);
            });
        return;
    }
    jobs_->start<sim::SimTrace>(
        "simulate", "Simulating " + sample,
        [module, image](JobContext& ctx) { return sim::runReference(*module, image, ctx.cancelFlag()); },
        [this, module, index, thenPlay](sim::SimTrace t) {
            accept(std::move(t), module, index, thenPlay, Engine::Reference);
        });
}

void SimulatorPanel::accept(sim::SimTrace t, ModulePtr module, int index, bool thenPlay, Engine engine)
{
    if (!t.ok()) {
        Diagnostics d;
        d.error({}, {}, "simulation failed (" + t.engine + "): " + t.error);
        doc_->setDiagnostics(DiagSource::Simulation, d);
        status_->setText("Simulation failed: " + QString::fromStdString(t.error));
        emit runFinished(false);
        return;
    }
    doc_->setDiagnostics(DiagSource::Simulation, {});
    trace_ = std::make_shared<const sim::SimTrace>(std::move(t));
    traceModule_ = module;
    traceImage_ = index;
    traceEngine_ = engine;
    showTrace();
    setCurrentStep(0);
    if (thenPlay && trace_->timesteps > 1) {
        playing_ = true;
        playback_->start();
    }
    updateControls();
    emit runFinished(true);
}

void SimulatorPanel::pause()
{
    playing_ = false;
    playback_->stop();
    updateControls();
}

void SimulatorPanel::step()
{
    if (!available())
        return;
    pause();
    if (!traceIsCurrent()) {
        simulate(false);
        return;
    }
    setCurrentStep(std::min(step_ + 1, int(trace_->timesteps) - 1));
}

void SimulatorPanel::reset()
{
    pause();
    jobs_->cancel("simulate");
    trace_.reset();
    traceModule_.reset();
    tracePackage_.reset();
    traceImage_ = -1;
    step_ = -1;
    ledgerText_.clear();
    raster_->setTrace(nullptr);
    showPrediction();
    showNeuronTrace(-1, -1);
    status_->clear();
    emit firingRatesChanged({}, {});
    emit measuredEnergyChanged(nullptr);
    emit measuredCoresChanged(nullptr);
    emit bottlenecksChanged(nullptr, {});
    updateControls();
}

void SimulatorPanel::advance()
{
    if (!trace_ || step_ >= int(trace_->timesteps) - 1) {
        pause();
        return;
    }
    setCurrentStep(step_ + 1);
}

void SimulatorPanel::setCurrentStep(int s)
{
    if (!trace_)
        return;
    step_ = std::clamp(s, 0, int(std::max<int64_t>(1, trace_->timesteps)) - 1);
    raster_->setCurrentStep(step_);
    if (scrubber_->value() != step_) {
        const QSignalBlocker block(scrubber_);
        scrubber_->setValue(step_);
    }
    int64_t spikes = 0;
    for (const auto& l : trace_->layers)
        if (step_ < int(l.spikesPerStep.size()))
            spikes += l.spikesPerStep[size_t(step_)];
    stepLabel_->setText(QString("t = %1 / %2 · %3 spikes").arg(step_).arg(trace_->timesteps - 1).arg(spikes));
}

void SimulatorPanel::showTrace()
{
    raster_->setTrace(trace_);
    std::map<int, double> rates;
    for (const auto& l : trace_->layers)
        rates[l.opIndex] = l.firingRate();
    emit firingRatesChanged(rates, QString::fromStdString(trace_->engine));
    engineLabel_->setText("trace: " + QString::fromStdString(trace_->engine));
    engineLabel_->setToolTip(ledgerText_.isEmpty() ? QString() : "<pre>" + ledgerText_.toHtmlEscaped() + "</pre>");
    const QString predicted = className(trace_->predicted);
    const int label = imageLabel();
    status_->setText(QString("%1 spikes in %2 LIF layers over T=%3 · predicted <b>%4</b>%5 · %6 ms")
                         .arg(trace_->totalSpikes())
                         .arg(trace_->layers.size())
                         .arg(trace_->timesteps)
                         .arg(predicted)
                         .arg(label < 0 ? QString() : label == trace_->predicted ? QString(" ✓") : QString(" ✗ (label %1)").arg(className(label)))
                         .arg(trace_->seconds * 1000, 0, 'f', 1));
    showPrediction();
    if (!trace_->layers.empty()) {
        // Start with the most active neuron of the first layer: a flat trace says little.
        const auto& l = trace_->layers.front();
        std::vector<int32_t> count(size_t(l.neurons), 0);
        for (int32_t n : l.neuron)
            ++count[size_t(n)];
        showNeuronTrace(0, int64_t(std::max_element(count.begin(), count.end()) - count.begin()));
    }
}

void SimulatorPanel::showPrediction()
{
    if (!trace_) {
        prediction_->setData({}, {}, -1, -1);
        return;
    }
    QStringList classes;
    for (int k = 0; k < int(trace_->probabilities.size()); ++k)
        classes << className(k);
    prediction_->setData(classes, trace_->probabilities, trace_->predicted, imageLabel());
}

void SimulatorPanel::showNeuronTrace(int layer, int64_t neuron)
{
    auto* chart = new QChart;
    if (!trace_ || layer < 0 || layer >= int(trace_->layers.size())) {
        styleChart(chart, "Neuron input (click a neuron in the raster)");
    } else {
        const auto& l = trace_->layers[size_t(layer)];
        // The chip simulator traces spikes, not neuron input: then the line is the spike train.
        const bool hasInput = !l.input.empty();
        styleChart(chart, QString("%1 · neuron %2: %3")
                              .arg(QString::fromStdString(l.origin.empty() ? l.name : l.origin))
                              .arg(neuron)
                              .arg(hasInput ? "input per step, spikes ●" : "spike train (input not traced by this engine)"));
        auto* input = new QLineSeries;
        auto* spikes = new QScatterSeries;
        spikes->setMarkerSize(8);
        double lo = 0, hi = 1;
        for (int64_t t = 0; t < l.steps(); ++t) {
            auto b = l.neuron.begin() + long(l.stepOffset[size_t(t)]);
            auto e = l.neuron.begin() + long(l.stepOffset[size_t(t) + 1]);
            const bool spiked = std::binary_search(b, e, int32_t(neuron));
            const double v = hasInput ? double(l.input[size_t(t * l.neurons + neuron)]) : spiked ? 1.0 : 0.0;
            input->append(double(t), v);
            lo = std::min(lo, v);
            hi = std::max(hi, v);
            if (spiked)
                spikes->append(double(t), v);
        }
        input->setColor(theme::layerColor(layer, theme::isDark()));
        spikes->setColor(theme::categoryColor("neuron", theme::isDark()));
        chart->addSeries(input);
        chart->addSeries(spikes);
        auto* x = new QValueAxis;
        x->setRange(0, double(std::max<int64_t>(1, l.steps() - 1)));
        x->setLabelFormat("%d");
        x->setTitleText("time step");
        x->setTitleVisible(false);
        auto* y = new QValueAxis;
        y->setRange(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo));
        styleAxis(x);
        styleAxis(y);
        y->setTickCount(3);
        x->setTickCount(int(std::min<int64_t>(l.steps(), 9)));
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        for (auto* s : {static_cast<QAbstractSeries*>(input), static_cast<QAbstractSeries*>(spikes)}) {
            s->attachAxis(x);
            s->attachAxis(y);
        }
        raster_->setSelectedNeuron(layer, neuron);
    }
    QChart* old = neuronTrace_->chart();
    neuronTrace_->setChart(chart);
    delete old;
}

void SimulatorPanel::updateControls()
{
    const bool ok = available();
    runButton_->setEnabled(ok && !playing_);
    pauseButton_->setEnabled(playing_);
    stepButton_->setEnabled(ok);
    resetButton_->setEnabled(trace_ != nullptr);
    scrubber_->setEnabled(trace_ != nullptr);
    if (trace_) {
        scrubber_->setRange(0, int(std::max<int64_t>(1, trace_->timesteps)) - 1);
        if (traceModule_ != doc_->module())
            status_->setText("The model changed since this run — Run again to simulate the edited model.");
        else if (traceEngine_ == Engine::ChipSimulator && tracePackage_ != package_)
            status_->setText("The package changed since this run (recompiled or remapped) — Run again.");
    } else {
        scrubber_->setRange(0, 0);
        stepLabel_->setText("t = –");
        engineLabel_->setText(ok ? "engine: " + engineText() : QString());
    }
}

} // namespace stc::views
