# Бэк-офис поставщика: товары, импорт, категории и характеристики.

admin-catalog-products-title = Товары
admin-catalog-import-title = Импорт
admin-catalog-categories-title = Категории и характеристики
admin-catalog-new-title = Новый товар
admin-catalog-new = Новый товар
admin-catalog-import = Импорт
admin-catalog-export-csv = Выгрузить CSV
admin-catalog-export-xlsx = Выгрузить XLSX
admin-catalog-search = Поиск
admin-catalog-search-hint = артикул или название
admin-catalog-find = Найти
admin-catalog-all = Все
admin-catalog-found = { $count ->
    [one] { $count } товар
    [few] { $count } товара
   *[other] { $count } товаров
}
admin-catalog-none = Товаров не найдено. Добавьте товар или загрузите таблицу.

admin-catalog-status-active = В продаже
admin-catalog-status-upcoming = Ожидается
admin-catalog-status-archived = В архиве

admin-catalog-col-sku = Артикул
admin-catalog-col-name = Название
admin-catalog-col-name-en = Название по-английски
admin-catalog-col-category = Категория
admin-catalog-col-brand = Бренд
admin-catalog-col-unit = Единица
admin-catalog-col-pack-size = В упаковке
admin-catalog-col-min-qty = Минимальный заказ
admin-catalog-col-order-multiple = Кратность заказа
admin-catalog-col-weight-kg = Вес, кг
admin-catalog-col-volume-m3 = Объём, м³
admin-catalog-col-vat-rate = Ставка НДС
admin-catalog-col-price = Базовая цена
admin-catalog-col-status = Статус
admin-catalog-col-available-from = Поступит
admin-catalog-col-barcodes = Штрихкоды
admin-catalog-col-description = Описание
admin-catalog-col-description-en = Описание по-английски
admin-catalog-col-stock = Остаток
admin-catalog-col-stock-at = Остаток: { $warehouse }
admin-catalog-col-price-of = Цена: { $type }

admin-catalog-unit-pcs = штуки
admin-catalog-unit-m = метры
admin-catalog-unit-m2 = квадратные метры
admin-catalog-unit-m3 = кубические метры
admin-catalog-unit-kg = килограммы
admin-catalog-unit-l = литры
admin-catalog-unit-pack = упаковки
admin-catalog-unit-set = комплекты
admin-catalog-unit-roll = рулоны
admin-catalog-unit-service = услуги
admin-catalog-vat-20 = 20 %
admin-catalog-vat-10 = 10 %
admin-catalog-vat-0 = 0 %
admin-catalog-vat-none = Без НДС
admin-catalog-yes = Да
admin-catalog-no = Нет

admin-catalog-group-main = Товар
admin-catalog-group-main-hint = Название и описание, которые видят покупатели; английские показываются тем, кто выбрал английский язык.
admin-catalog-group-units = Единицы и заказ
admin-catalog-group-units-hint = Покупатель заказывает не меньше минимума и кратно указанному шагу.
admin-catalog-group-terms = НДС, статус и даты
admin-catalog-group-terms-hint = Для ожидаемого товара нужна дата поступления; товары в архиве покупатели не видят.
admin-catalog-group-prices = Цены
admin-catalog-group-prices-hint = Суммы вида 1234.50. Если цена для типа цен не указана, действует базовая.
admin-catalog-group-stock = Остатки по складам
admin-catalog-group-stock-hint = Количество на складе. Сохраняются только изменённые числа, поэтому заказы, сделанные тем временем, не затираются.
admin-catalog-group-attributes = Характеристики
admin-catalog-group-attributes-hint = По ним покупатели фильтруют каталог. Оставьте пустым, если не подходит.
admin-catalog-hint-sku = До 64 букв, цифр и знаков . _ / -
admin-catalog-hint-barcodes = От 8 до 14 цифр каждый, через ;
admin-catalog-hint-description = Простое оформление (абзацы, списки, жирный шрифт, ссылки) сохраняется; скрипты и стили удаляются при сохранении.

admin-catalog-fix-fields = Ничего не сохранено. Исправьте поля:
admin-catalog-create = Создать товар
admin-catalog-save = Сохранить
admin-catalog-read-only = Ваша роль позволяет смотреть каталог, но не менять его.
admin-catalog-stock-only = Ваша роль позволяет менять только остатки.
admin-catalog-save-stock = Сохранить остатки
admin-catalog-duplicate-sku = Товар с таким артикулом уже есть.
admin-catalog-done-saved = Сохранено.
admin-catalog-done-image = Изображение добавлено.
admin-catalog-done-file = Файл прикреплён.
admin-catalog-done-image-removed = Изображение удалено.
admin-catalog-done-file-removed = Файл удалён.

admin-catalog-images = Изображения
admin-catalog-no-images = Изображений пока нет.
admin-catalog-image-file = Изображение
admin-catalog-image-hint = PNG, JPEG, WebP или GIF до 10 МБ и до 8000 × 8000 точек. Первое изображение — главное.
admin-catalog-image-alt = Изображение { $width } × { $height }
admin-catalog-files = Прикреплённые файлы
admin-catalog-no-files = Файлов пока нет.
admin-catalog-file = Файл
admin-catalog-file-title = Название (необязательно)
admin-catalog-file-hint = Сертификаты, инструкции, чертежи — до 20 МБ. Покупатели скачивают их; в браузере они не открываются.
admin-catalog-bytes = { $size } байт
admin-catalog-kb = { $size } КБ
admin-catalog-mb = { $size } МБ
admin-catalog-upload = Загрузить
admin-catalog-remove = Удалить
admin-catalog-too-large = Файл слишком большой: изображения — до 10 МБ, прикреплённые файлы и таблицы — до 20 МБ.

admin-catalog-report = Отчёт
admin-catalog-report-applied = Загружено: новых — { $created }, обновлено — { $updated }.
admin-catalog-report-checked = Файл в порядке: можно загрузить строк — { $rows }. Пока ничего не изменено; чтобы загрузить, отправьте файл ещё раз без «Только проверить».
admin-catalog-report-nothing-changed = { $count ->
    [one] Найдена { $count } ошибка. Ничего не изменено: исправьте файл и загрузите его снова.
    [few] Найдено { $count } ошибки. Ничего не изменено: исправьте файл и загрузите его снова.
   *[other] Найдено { $count } ошибок. Ничего не изменено: исправьте файл и загрузите его снова.
}
admin-catalog-report-rows = Строк
admin-catalog-report-created = Новых
admin-catalog-report-updated = Обновлено
admin-catalog-report-encoding = Кодировка
admin-catalog-report-problems = Ошибки
admin-catalog-report-line = Строка
admin-catalog-report-column = Колонка
admin-catalog-report-message = Ошибка
admin-catalog-report-more = … и ещё ошибок, не показанных здесь: { $count }.
admin-catalog-import-upload = Загрузить таблицу
admin-catalog-import-file = Файл CSV или XLSX
admin-catalog-import-check-only = Только проверить, ничего не менять
admin-catalog-import-submit = Загрузить
admin-catalog-import-how = Как работает импорт
admin-catalog-import-how-format = XLSX (первый лист) или CSV в UTF-8 или Windows-1251 с разделителем ; или , — в первой строке названия колонок.
admin-catalog-import-how-all-or-nothing = Сначала проверяется весь файл. Если хоть в одной строке ошибка, ничего не меняется, а все ошибки перечисляются с номерами строк.
admin-catalog-import-how-export = Выгруженный файл загружается обратно без изменений: выгрузите, поправьте в Excel, загрузите.
admin-catalog-import-how-headers = Подходят и русские заголовки: Артикул, Наименование, Цена, Остаток, Категория, НДС и другие.
admin-catalog-import-how-empty = Строка заменяет товар с тем же артикулом: пустая ячейка очищает поле, кроме остатков (пустая ячейка остаток не меняет).
admin-catalog-import-columns = Колонки
admin-catalog-import-meaning = Значение
admin-catalog-required = обязательно

admin-catalog-categories = Категории
admin-catalog-no-categories = Категорий пока нет.
admin-catalog-add-category = Добавить категорию
admin-catalog-code = Код
admin-catalog-code-hint = Строчные латинские буквы, цифры, - и _; используется в ссылках и таблицах.
admin-catalog-parent = Родительская категория
admin-catalog-add = Добавить
admin-catalog-delete = Удалить
admin-catalog-delete-hint = Удалить можно только пустую категорию — без товаров и подкатегорий.
admin-catalog-category-exists = Категория с таким кодом уже есть.
admin-catalog-category-not-empty = В категории ещё есть товары или подкатегории: сначала перенесите их.
admin-catalog-attributes = Характеристики
admin-catalog-no-attributes = Характеристик пока нет.
admin-catalog-add-attribute = Добавить характеристику
admin-catalog-attr-code-hint = Строчные латинские буквы, цифры и _, начиная с буквы; колонка в таблице — attr:код.
admin-catalog-kind = Тип
admin-catalog-kind-text = Текст
admin-catalog-kind-number = Число
admin-catalog-kind-bool = Да / нет
admin-catalog-kind-list = Список вариантов
admin-catalog-unit = Единица
admin-catalog-options = Варианты
admin-catalog-options-hint = Для списка: варианты через запятую.
admin-catalog-filterable = Показывать как фильтр в каталоге
admin-catalog-attribute-exists = Характеристика с таким кодом уже есть.

admin-catalog-format-sku = До 64 букв, цифр и знаков . _ / -; товар с таким артикулом обновляется, иначе создаётся новый.
admin-catalog-format-name = До 300 символов.
admin-catalog-format-category = Код категории (см. «Категории»); пусто — без категории.
admin-catalog-format-brand = До 100 символов.
admin-catalog-format-unit = pcs, m, m2, m3, kg, l, pack, set или roll; пусто — pcs (штуки).
admin-catalog-format-vat-rate = 20, 10, 0 или none (без НДС); пусто — 20.
admin-catalog-format-price = Сумма вида 1234.50.
admin-catalog-format-status = active (в продаже), upcoming (ожидается) или archived (в архиве); пусто — active.
admin-catalog-format-available-from = Дата вида 2026-12-01 или 01.12.2026; обязательна для ожидаемых товаров.
admin-catalog-format-barcodes = От 8 до 14 цифр каждый, через ;
admin-catalog-format-positive = Число больше нуля; пусто — 1.
admin-catalog-format-number = Число; можно оставить пустым.
admin-catalog-format-html = Текст или простой HTML; скрипты удаляются.
admin-catalog-format-optional = Необязательно.
admin-catalog-format-stock = Количество на складе; пустая ячейка остаток не меняет.
admin-catalog-format-extra-price = Сумма вида 1234.50; пустая ячейка удаляет эту цену (действует базовая).
admin-catalog-format-attr-list = Одно из: { $options }.
admin-catalog-format-attr-bool = да или нет.
admin-catalog-format-attr-number = Число, { $unit }.
admin-catalog-format-attr-text = Текст до 200 символов.

admin-order-edit-lines = Изменить состав
admin-order-edit-lines-hint = Пока заказ новый: 0 убирает строку; остатки и сумма пересчитаются, покупатель получит уведомление.
admin-order-add-sku = Добавить артикул
admin-order-save-lines = Сохранить состав
